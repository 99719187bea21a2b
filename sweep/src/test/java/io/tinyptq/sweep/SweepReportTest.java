package io.tinyptq.sweep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyptq.api.spi.BackendInfo;
import io.tinyptq.kernel.pipeline.Provenance;
import io.tinyptq.kernel.run.RunReport;
import io.tinyptq.sweep.report.SweepReport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The report's figures from a results database filled here with known trials: the FP row, the accuracy drops, the
 * BOP and memory savings and trials.csv, each expected value computed in this test from the trials' accuracies and
 * the models' MACs, parameters and peak activation with the direct formulas, not through the report's code.
 * Accuracies are multiples of 0.25, so means and formatted values are exact.
 */
class SweepReportTest {

    /** A model's size as ModelStats counts it. */
    record Stats(String data, long evalSamples, long macs, long params, long peakActivation) {}

    /** One trial: what it ran and what it measured. */
    record Spec(String model, String method, String recipe, int wb, int ab, long seed, double fp, double acc) {
        Stats stats() {
            return STATS.get(model);
        }

        /** Time per stage; the optimize stage takes longer with the seed, so a cell's mean time is known. */
        Map<String, Double> seconds() {
            Map<String, Double> s = new LinkedHashMap<>();
            s.put("fp_eval", 0.5);
            s.put("optimize", 2.0 + seed);
            s.put("eval", 0.25);
            return s;
        }

        String secondsJson() {
            return "{\"fp_eval\":0.5,\"optimize\":" + (2.0 + seed) + ",\"eval\":0.25}";
        }

        double totalSeconds() {
            return 0.5 + 2.0 + seed + 0.25;
        }

        long bops() {
            return stats().macs() * wb * ab;
        }

        long fpBops() {
            return stats().macs() * 32 * 32;
        }

        long memoryBits() {
            return stats().params() * wb + stats().peakActivation() * ab;
        }

        long fpMemoryBits() {
            return (stats().params() + stats().peakActivation()) * 32;
        }
    }

    static final Map<String, Stats> STATS = Map.of(
            "resnet8", new Stats("cifar10-test", 10_000, 12_500_000, 24_000, 8_000),
            "dscnn", new Stats("kws-test", 4_890, 2_700_000, 10_000, 10_000));
    // A recipe file whose name holds a comma: trials.csv must quote it.
    static final String MINMAX_RECIPE = "recipes/min,max.yaml";
    static final List<Spec> SPECS = new ArrayList<>();

    static {
        // resnet8, FP 87.5: AdaRound best at both bit-widths.
        add("resnet8", "adaround", "adaround", 8, 87.5, 87.25, 87.5, 87.75);
        add("resnet8", "minmax", MINMAX_RECIPE, 8, 87.5, 87.0, 86.5, 87.5);
        add("resnet8", "adaround", "adaround", 4, 87.5, 84.0, 85.0, 86.0);
        add("resnet8", "minmax", MINMAX_RECIPE, 4, 87.5, 70.0, 71.0, 72.0);
        // dscnn, FP 92.25: AdaRound above FP at 8/8 (a negative drop); min-max best at 4/4, with two seeds only.
        add("dscnn", "adaround", "adaround", 8, 92.25, 92.5, 92.25, 92.75);
        add("dscnn", "minmax", MINMAX_RECIPE, 8, 92.25, 92.0, 91.75, 92.25);
        add("dscnn", "adaround", "adaround", 4, 92.25, 89.0, 90.0, 91.0);
        add("dscnn", "minmax", MINMAX_RECIPE, 4, 92.25, 90.5, 91.5);
    }

    static void add(String model, String method, String recipe, int bits, double fp, double... accuracies) {
        for (int seed = 0; seed < accuracies.length; seed++) {
            SPECS.add(new Spec(model, method, recipe, bits, bits, seed, fp, accuracies[seed]));
        }
    }

    static Trial trial(int i, Spec s) {
        return new Trial(
                String.format(Locale.ROOT, "%064x", i + 1),
                i + 1,
                "known",
                s.model(),
                s.model() + ".tflite",
                s.stats().data(),
                null,
                256,
                0,
                s.method(),
                s.recipe(),
                s.wb(),
                s.ab(),
                s.seed(),
                List.of(),
                "name: " + s.method() + "\n",
                "out/" + i);
    }

    static RunReport report(Trial t, Spec s) {
        Provenance p = new Provenance(
                "test",
                "25",
                "linux",
                Instant.parse("2026-01-01T00:00:00Z"),
                s.seed(),
                t.recipe(),
                t.recipeYaml(),
                t.modelFile(),
                "calib",
                List.of(),
                new BackendInfo("cpu", "fake", 1, 16),
                s.seconds());
        return new RunReport(
                t.recipe(),
                t.modelFile(),
                t.data(),
                "calib",
                s.seed(),
                s.wb(),
                s.ab(),
                8,
                s.fp(),
                s.acc(),
                s.stats().evalSamples(),
                s.bops(),
                s.fpBops(),
                s.memoryBits(),
                s.fpMemoryBits(),
                s.seconds(),
                p);
    }

    @TempDir
    static Path dir;

    static String markdown;
    static List<List<String>> table2;
    static List<List<String>> trialsCsv;

    @BeforeAll
    static void writeReport() throws IOException {
        Path db = dir.resolve("results.db");
        try (ResultsDb results = ResultsDb.open(db)) {
            for (int i = 0; i < SPECS.size(); i++) {
                Trial t = trial(i, SPECS.get(i));
                results.claim(t);
                results.finish(t, report(t, SPECS.get(i)));
            }
        }
        Path out = dir.resolve("report");
        try (ResultsDb results = ResultsDb.openExisting(db)) {
            new SweepReport(results.finished(), results.statusCounts(), db.toString()).write(out);
        }
        markdown = Files.readString(out.resolve("report.md"));
        table2 = csv(Files.readString(out.resolve("table2.csv")));
        trialsCsv = csv(Files.readString(out.resolve("trials.csv")));
    }

    // ---- the figures, computed here ----------------------------------------------------------------------------

    static List<Spec> cell(String model, int bits, String method) {
        return SPECS.stream()
                .filter(s ->
                        s.model().equals(model) && s.wb() == bits && s.method().equals(method))
                .toList();
    }

    static List<Spec> trialsOf(String model) {
        return SPECS.stream().filter(s -> s.model().equals(model)).toList();
    }

    static double mean(List<Spec> specs, java.util.function.ToDoubleFunction<Spec> f) {
        return specs.stream().mapToDouble(f).sum() / specs.size();
    }

    /** Sample standard deviation, n - 1. */
    static double std(List<Spec> specs) {
        double m = mean(specs, Spec::acc);
        return Math.sqrt(
                specs.stream().mapToDouble(s -> (s.acc() - m) * (s.acc() - m)).sum() / (specs.size() - 1));
    }

    /** Points lost to quantization: FP minus quantized, negative where the quantized model does better. */
    static double drop(List<Spec> specs) {
        return mean(specs, s -> s.fp() - s.acc());
    }

    /** BOPs = MACs x b_w x b_a, against 32 x 32. */
    static double bopSaving(String model, int wb, int ab) {
        double macs = STATS.get(model).macs();
        return 100 * (1 - macs * wb * ab / (macs * 32 * 32));
    }

    /** Peak memory = params x b_w + peak activation x b_a, against 32-bit params and activations. */
    static double memorySaving(String model, int wb, int ab) {
        Stats s = STATS.get(model);
        return 100
                * (1
                        - (s.params() * (double) wb + s.peakActivation() * (double) ab)
                                / ((s.params() + s.peakActivation()) * 32.0));
    }

    static String f(String format, Object... args) {
        return String.format(Locale.ROOT, format, args);
    }

    // ---- the tests ---------------------------------------------------------------------------------------------

    @Test
    void theFullPrecisionRowHoldsEachModelsFpAccuracy() {
        // Models in the order of their first trial, each column headed with its evaluation data.
        assertTrue(markdown.contains("| W/A | method | resnet8 (cifar10-test) | dscnn (kws-test) |\n"), markdown);
        // Each model's FP accuracy over all its trials.
        String fp = f(
                "| 32/32 | full precision | %.2f | %.2f |\n",
                mean(trialsOf("resnet8"), Spec::fp), mean(trialsOf("dscnn"), Spec::fp));
        assertEquals("| 32/32 | full precision | 87.50 | 92.25 |\n", fp);
        // The row right under the header's separator.
        String table = markdown.substring(markdown.indexOf("| W/A | method |"));
        assertEquals(fp.strip(), table.lines().skip(2).findFirst().orElseThrow(), table);
        // Quantized rows follow, highest bits first: the dscnn min-max cell has two seeds and says so.
        assertTrue(table.contains("| 4/4 | minmax | 71.00 ± 1.00 | 91.00 ± 0.71 (n=2) |"), table);
    }

    @Test
    void everyCellHoldsItsMeanDropAndSavings() {
        assertEquals(
                List.of(
                        "model",
                        "weight_bits",
                        "activation_bits",
                        "method",
                        "n",
                        "accuracy_mean",
                        "accuracy_std",
                        "fp_accuracy_mean",
                        "accuracy_drop_mean",
                        "bop_saving_percent",
                        "memory_saving_percent",
                        "seconds_mean"),
                table2.get(0));
        Map<String, List<String>> byCell = table2.subList(1, table2.size()).stream()
                .collect(Collectors.toMap(r -> r.get(0) + " " + r.get(1) + "/" + r.get(2) + " " + r.get(3), r -> r));
        assertEquals(8, byCell.size(), table2.toString());
        for (String model : STATS.keySet()) {
            for (int bits : List.of(8, 4)) {
                for (String method : List.of("adaround", "minmax")) {
                    List<Spec> c = cell(model, bits, method);
                    List<String> expected = List.of(
                            model,
                            "" + bits,
                            "" + bits,
                            method,
                            "" + c.size(),
                            f("%.4f", mean(c, Spec::acc)),
                            f("%.4f", std(c)),
                            f("%.4f", mean(c, Spec::fp)),
                            f("%.4f", drop(c)),
                            f("%.3f", bopSaving(model, bits, bits)),
                            f("%.3f", memorySaving(model, bits, bits)),
                            f("%.2f", mean(c, Spec::totalSeconds)));
                    assertEquals(expected, byCell.get(model + " " + bits + "/" + bits + " " + method));
                }
            }
        }
        // The formulas give round numbers for these sizes; pinned so that a wrong formula above cannot hide.
        assertEquals(
                "dscnn,8,8,adaround,3,92.5000,0.2500,92.2500,-0.2500,93.750,75.000,3.75",
                String.join(",", byCell.get("dscnn 8/8 adaround")));
        assertEquals(
                "resnet8,4,4,minmax,3,71.0000,1.0000,87.5000,16.5000,98.438,87.500,3.75",
                String.join(",", byCell.get("resnet8 4/4 minmax")));
    }

    @Test
    void figure8ListsEachModelsBestMethodWithItsDropAndSavings() {
        String table = markdown.substring(markdown.indexOf("| model | W/A | best method |"));
        List<String> rows =
                table.lines().skip(2).takeWhile(l -> l.startsWith("|")).toList();
        List<String> expected = new ArrayList<>();
        // Best = highest mean accuracy of the model at that bit-width.
        for (String[] best : new String[][] {
            {"resnet8", "8", "adaround"},
            {"resnet8", "4", "adaround"},
            {"dscnn", "8", "adaround"},
            {"dscnn", "4", "minmax"}
        }) {
            int bits = Integer.parseInt(best[1]);
            List<Spec> c = cell(best[0], bits, best[2]);
            String accuracy =
                    f("%.2f ± %.2f", mean(c, Spec::acc), std(c)) + (c.size() == 3 ? "" : " (n=" + c.size() + ")");
            expected.add(f(
                    "| %s | %d/%d | %s | %s | %.2f | %.1f %% | %.1f %% |",
                    best[0],
                    bits,
                    bits,
                    best[2],
                    accuracy,
                    drop(c),
                    bopSaving(best[0], bits, bits),
                    memorySaving(best[0], bits, bits)));
        }
        assertEquals(expected, rows);
        assertEquals("| dscnn | 4/4 | minmax | 91.00 ± 0.71 (n=2) | 1.25 | 98.4 % | 87.5 % |", rows.get(3));
    }

    @Test
    void trialsCsvHasOneRowPerTrialWithItsValues() {
        assertEquals(
                List.of(
                        "trial_key",
                        "sweep",
                        "model",
                        "data",
                        "method",
                        "recipe",
                        "weight_bits",
                        "activation_bits",
                        "seed",
                        "calib_size",
                        "eval_limit",
                        "eval_samples",
                        "fp_accuracy",
                        "accuracy",
                        "accuracy_drop",
                        "bops",
                        "fp_bops",
                        "bop_saving",
                        "memory_bits",
                        "fp_memory_bits",
                        "memory_saving",
                        "total_seconds",
                        "seconds_json",
                        "out_dir"),
                trialsCsv.get(0));
        assertEquals(SPECS.size() + 1, trialsCsv.size(), "one row per trial");
        for (int i = 0; i < SPECS.size(); i++) {
            Spec s = SPECS.get(i);
            Stats st = s.stats();
            List<String> expected = List.of(
                    f("%064x", i + 1),
                    "known",
                    s.model(),
                    st.data(),
                    s.method(),
                    s.recipe(),
                    "" + s.wb(),
                    "" + s.ab(),
                    "" + s.seed(),
                    "256",
                    "0",
                    "" + st.evalSamples(),
                    f("%.4f", s.fp()),
                    f("%.4f", s.acc()),
                    f("%.4f", s.fp() - s.acc()),
                    "" + st.macs() * s.wb() * s.ab(),
                    "" + st.macs() * 1024,
                    f("%.4f", bopSaving(s.model(), s.wb(), s.ab())),
                    "" + (st.params() * s.wb() + st.peakActivation() * s.ab()),
                    "" + (st.params() + st.peakActivation()) * 32,
                    f("%.4f", memorySaving(s.model(), s.wb(), s.ab())),
                    f("%.4f", s.totalSeconds()),
                    s.secondsJson(),
                    "out/" + i);
            assertEquals(expected, trialsCsv.get(i + 1), "trial " + i);
        }
        // The recipe with a comma and the seconds' JSON are quoted in the file, not split.
        assertEquals(24, trialsCsv.stream().mapToInt(List::size).min().orElseThrow());
    }

    /** RFC 4180 lines: fields split at commas outside double quotes; a doubled quote inside stands for one. */
    static List<List<String>> csv(String text) {
        List<List<String>> rows = new ArrayList<>();
        for (String line : text.split("\n")) {
            List<String> fields = new ArrayList<>();
            StringBuilder field = new StringBuilder();
            boolean quoted = false;
            for (int i = 0; i < line.length(); i++) {
                char c = line.charAt(i);
                if (quoted && c == '"' && i + 1 < line.length() && line.charAt(i + 1) == '"') {
                    field.append('"');
                    i++;
                } else if (c == '"') {
                    quoted = !quoted;
                } else if (c == ',' && !quoted) {
                    fields.add(field.toString());
                    field.setLength(0);
                } else {
                    field.append(c);
                }
            }
            fields.add(field.toString());
            rows.add(fields);
        }
        return rows;
    }

    /**
     * An accuracy the database holds as NULL (never recorded) is "n/a" in the tables and empty in the CSV files, never
     * 0.00, and takes no part in choosing the best method.
     */
    @Test
    void aNullAccuracyIsNotAvailableNotZero(@TempDir Path tmp) throws Exception {
        Path db = tmp.resolve("results.db");
        Spec a = new Spec("resnet8", "adaround", "adaround", 4, 4, 0, 87.5, 84.0);
        Spec m = new Spec("resnet8", "minmax", MINMAX_RECIPE, 4, 4, 0, 87.5, 70.0);
        try (ResultsDb results = ResultsDb.open(db)) {
            for (Spec s : List.of(a, m)) {
                Trial t = trial(s == a ? 0 : 1, s);
                results.claim(t);
                results.finish(t, report(t, s));
            }
        }
        try (var c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + db);
                var st = c.createStatement()) {
            st.execute("UPDATE trials SET accuracy = NULL WHERE method = 'adaround'");
        }
        Path out = tmp.resolve("report");
        try (ResultsDb results = ResultsDb.openExisting(db)) {
            new SweepReport(results.finished(), results.statusCounts(), db.toString()).write(out);
        }
        String md = Files.readString(out.resolve("report.md"));
        assertTrue(md.contains("| 4/4 | adaround | n/a |"), md);
        assertTrue(md.contains("| 4/4 | minmax | 70.00 |"), md);
        assertTrue(md.contains("| resnet8 | 4/4 | minmax | 70.00 | 17.50 |"), md);
        assertTrue(!md.contains("| 0.00 |") && !md.contains("NaN"), md);
        List<List<String>> t2 = csv(Files.readString(out.resolve("table2.csv")));
        List<String> adaround =
                t2.stream().filter(r -> r.get(3).equals("adaround")).findFirst().orElseThrow();
        assertEquals(List.of("", "", "87.5000", ""), adaround.subList(5, 9));
        List<List<String>> trials = csv(Files.readString(out.resolve("trials.csv")));
        List<String> head = trials.get(0);
        List<String> row =
                trials.stream().filter(r -> r.contains("adaround")).findFirst().orElseThrow();
        assertEquals("", row.get(head.indexOf("accuracy")));
        assertEquals("", row.get(head.indexOf("accuracy_drop")));
    }
}
