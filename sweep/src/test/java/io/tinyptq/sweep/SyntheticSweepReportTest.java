package io.tinyptq.sweep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyptq.api.spi.ComputeBackend;
import io.tinyptq.api.spi.PluginKind;
import io.tinyptq.api.spi.ProgressListener;
import io.tinyptq.kernel.Kernel;
import io.tinyptq.kernel.pipeline.BoundBackends;
import io.tinyptq.kernel.pipeline.CancellationToken;
import io.tinyptq.kernel.store.QuantizedModelStore;
import io.tinyptq.kernel.train.Trainer;
import io.tinyptq.recipes.BundledRecipes;
import io.tinyptq.sweep.report.SweepReport;
import io.tinyptq.zoo.SyntheticShapes;
import io.tinyptq.zoo.Zoo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A small sweep end to end on generated data: the toy CNN, briefly trained, quantized by two recipes at two
 * bit-widths with three seeds through the local executor; the report's Table 2 must hold the mean ± std of the
 * accuracies that the trials wrote to their own report.json files, computed here independently.
 */
class SyntheticSweepReportTest {
    static final Pattern ACCURACY = Pattern.compile("\"accuracy\"\\s*:\\s*([0-9.eE+-]+)");

    @Test
    void theReportHoldsMeanAndStdOverSeedsOfEveryCell(@TempDir Path dir) throws Exception {
        Kernel k = Kernel.discover();
        var cpu = BoundBackends.withDefaults(k.registry().find(PluginKind.BACKEND, "cpu", ComputeBackend.class));
        Trainer.Result trained = Trainer.train(
                cpu,
                Zoo.build("toy-cnn", 1),
                SyntheticShapes.of("train", 1200, 2022, 0),
                new Trainer.Settings(2, 3e-3, 32, 0.1, 2, 1),
                ProgressListener.NONE,
                new CancellationToken());
        Path model = dir.resolve("toy");
        QuantizedModelStore.save(trained.model(), null, model);
        Path datasets = Files.createDirectories(dir.resolve("datasets"));
        Files.writeString(
                datasets.resolve("shapes-test.yaml"), "layout: synthetic\ncount: 400\nseed: 2022\nfirst: 100000\n");
        Files.writeString(datasets.resolve("shapes-train.yaml"), "layout: synthetic\ncount: 1000\nseed: 2022\n");
        Path sweepFile = Files.writeString(dir.resolve("small.yaml"), """
                name: small
                models:
                  - {name: toy, model: %s, data: shapes-test, calib_data: shapes-train, calib: 48, limit: 300}
                  - {name: toy-split, model: %s, data: shapes-test, calib: 32, limit: 200}
                recipes:
                  - {recipe: minmax}
                  - {recipe: mse, label: mse-fast, overrides: [init.weights.candidates=100]}
                bits: [8/8, 3/3]
                seeds: [0, 1, 2]
                overrides: [backend.threads=1]
                """.formatted(model, model));
        Path out = dir.resolve("out");
        List<Trial> trials = SweepPlan.expand(SweepFiles.load(sweepFile), dir, BundledRecipes::yaml, k.recipes(), out);
        assertEquals(24, trials.size());
        Path db = out.resolve("results.db");
        List<String> lines = new ArrayList<>();
        try (ResultsDb results = ResultsDb.open(db);
                LocalTrialExecutor ex = new LocalTrialExecutor(k, dir, datasets, 2, 1)) {
            SweepRunner.Summary s =
                    new SweepRunner(results, ex, SweepRunnerTest.messages(lines), new CancellationToken()).run(trials);
            assertEquals(24, s.ran(), s.text() + " " + s.failures());
        }
        assertEquals(
                24, lines.stream().filter(l -> l.matches("\\[\\d+/24] toy.*")).count(), lines.toString());

        Path reportDir = out.resolve("report");
        List<String> files;
        String markdown;
        String table2;
        try (ResultsDb results = ResultsDb.openExisting(db)) {
            files = new SweepReport(results.finished(), results.statusCounts(), db.toString()).write(reportDir);
        }
        markdown = Files.readString(reportDir.resolve("report.md"));
        table2 = Files.readString(reportDir.resolve("table2.csv"));
        for (String f : List.of(
                "report.md",
                "report.html",
                "table2.csv",
                "trials.csv",
                "charts/figure8-bops.png",
                "charts/figure8-bops.svg",
                "charts/figure8-memory.png",
                "charts/figure8-memory.svg",
                "charts/accuracy-toy.png",
                "charts/accuracy-toy.svg",
                "charts/accuracy-toy-split.png")) {
            assertTrue(files.contains(f), f + " in " + files);
            assertTrue(Files.size(reportDir.resolve(f)) > 200, f);
        }
        String html = Files.readString(reportDir.resolve("report.html"));
        assertTrue(html.contains("<svg") && !html.contains("<img"), "charts inline as SVG");
        assertTrue(
                Files.readString(reportDir.resolve("charts/accuracy-toy.svg")).startsWith("<?xml"));

        // Independently: the accuracies each trial wrote to its own report.json, grouped into cells.
        for (String m : List.of("toy", "toy-split")) {
            for (String method : List.of("minmax", "mse-fast")) {
                for (int bits : List.of(8, 3)) {
                    double[] acc = trials.stream()
                            .filter(t -> t.model().equals(m) && t.method().equals(method) && t.weightBits() == bits)
                            .mapToDouble(SyntheticSweepReportTest::reportedAccuracy)
                            .toArray();
                    assertEquals(3, acc.length);
                    double mean = (acc[0] + acc[1] + acc[2]) / 3;
                    double var = 0;
                    for (double a : acc) {
                        var += (a - mean) * (a - mean);
                    }
                    double std = Math.sqrt(var / 2);
                    String cell = String.format(Locale.ROOT, "%.2f ± %.2f", mean, std);
                    String row = "| " + bits + "/" + bits + " | " + method + " | ";
                    String line = markdown.lines()
                            .filter(l -> l.startsWith(row))
                            .findFirst()
                            .orElseThrow(() -> new AssertionError("no row " + row + " in\n" + markdown));
                    int column = m.equals("toy") ? 2 : 3;
                    assertEquals(
                            cell, line.split(" \\| ")[column].replace("|", "").strip(), line);
                    String csvPrefix =
                            String.format(Locale.ROOT, "%s,%d,%d,%s,3,%.4f,%.4f,", m, bits, bits, method, mean, std);
                    assertTrue(table2.lines().anyMatch(l -> l.startsWith(csvPrefix)), csvPrefix + " in\n" + table2);
                }
            }
        }
        assertTrue(markdown.contains("| 32/32 | full precision | "), markdown);
    }

    static double reportedAccuracy(Trial t) {
        try {
            Matcher m = ACCURACY.matcher(Files.readString(Path.of(t.outDir()).resolve("report.json")));
            assertTrue(m.find(), t.outDir());
            return Double.parseDouble(m.group(1));
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }
}
