package io.tinyptq.sweep.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tinyptq.api.spi.ProgressListener;
import io.tinyptq.cli.Main;
import io.tinyptq.kernel.Kernel;
import io.tinyptq.kernel.pipeline.CancellationToken;
import io.tinyptq.recipes.BundledRecipes;
import io.tinyptq.sweep.LocalTrialExecutor;
import io.tinyptq.sweep.ResultsDb;
import io.tinyptq.sweep.SweepFiles;
import io.tinyptq.sweep.SweepPlan;
import io.tinyptq.sweep.SweepRunner;
import io.tinyptq.sweep.Trial;
import io.tinyptq.sweep.TrialExecutor;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * A small grid on the zoo's toy CNN, trained for one epoch on generated shapes: 1 model x 2 recipes (minmax, mse with
 * few candidates) x 2 bit-widths x 2 seeds = 8 trials of a second or two each, every one on one cpu thread so that
 * any executor gives the same bits. The reference rows come from the local executor.
 */
final class ToySweep {
    final Path dir;
    final Path dataRoot;
    final Path datasets;
    final Path model;
    final Kernel kernel = Kernel.discover();

    /** A trial's row: its settings and what it measured, compared bit for bit between executors. */
    record Row(
            String status,
            String method,
            int weightBits,
            long seed,
            double fpAccuracy,
            double accuracy,
            long bops,
            long memoryBits,
            int attempts,
            String error) {
        /** The same row with another attempt count (a trial whose driver died ran twice). */
        Row withAttempts(int n) {
            return new Row(status, method, weightBits, seed, fpAccuracy, accuracy, bops, memoryBits, n, error);
        }
    }

    ToySweep(Path dir) {
        this.dir = dir;
        this.dataRoot = dir;
        try {
            datasets = Files.createDirectories(dir.resolve("datasets"));
            Files.writeString(datasets.resolve("train.yaml"), "layout: synthetic\ncount: 600\nseed: 7\n");
            Files.writeString(datasets.resolve("test.yaml"), "layout: synthetic\ncount: 200\nseed: 7\nfirst: 100000\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        model = dir.resolve("toy");
        Cli train = cli(
                "train",
                "toy-cnn",
                "--data",
                "train",
                "--epochs",
                "1",
                "--batch",
                "16",
                "--out",
                model.toString(),
                "--datasets",
                datasets.toString(),
                "--data-root",
                dataRoot.toString());
        assertEquals(0, train.code(), train.err());
    }

    /** The grid's sweep file, with {@code extraModels} (YAML list entries) after the toy model. */
    Path sweepFile(String name, String... extraModels) {
        StringBuilder models = new StringBuilder(
                "  - {name: toy, model: %s, data: test, calib_data: train, calib: 32,".formatted(model)
                        + " limit: 100}\n");
        for (String m : extraModels) {
            models.append("  - ").append(m).append('\n');
        }
        try {
            return Files.writeString(dir.resolve(name + ".yaml"), """
                    name: %s
                    models:
                    %s
                    recipes:
                      - {recipe: minmax}
                      - {recipe: mse, label: mse-fast, overrides: [init.weights.candidates=100]}
                    bits: [8/8, 4/4]
                    seeds: [0, 1]
                    overrides: [backend.threads=1]
                    """.formatted(
                            name, models.toString().stripTrailing()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    List<Trial> trials(Path sweepFile, Path out) {
        return SweepPlan.expand(
                SweepFiles.load(sweepFile), sweepFile.getParent(), BundledRecipes::yaml, kernel.recipes(), out);
    }

    /** Runs {@code trials} through {@code executor} into {@code db}; the executor is closed afterwards. */
    SweepRunner.Summary run(TrialExecutor executor, Path db, List<Trial> trials, ProgressListener progress) {
        try (executor;
                ResultsDb results = ResultsDb.open(db)) {
            return new SweepRunner(results, executor, progress, new CancellationToken()).run(trials);
        }
    }

    /** The grid's rows by the local executor, two trials at a time. */
    Map<String, Row> localRows(Path sweepFile) {
        Path out = dir.resolve("local-" + sweepFile.getFileName());
        run(
                new LocalTrialExecutor(kernel, dataRoot, datasets, 2, 1),
                out.resolve("results.db"),
                trials(sweepFile, out),
                ProgressListener.NONE);
        return rows(out.resolve("results.db"));
    }

    /** Every row of a results database by trial key. */
    static Map<String, Row> rows(Path db) {
        Map<String, Row> rows = new TreeMap<>();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("""
                     SELECT trial_key, status, method, weight_bits, seed, fp_accuracy, accuracy, bops, memory_bits,
                       attempts, error FROM trials""")) {
            while (rs.next()) {
                rows.put(
                        rs.getString(1),
                        new Row(
                                rs.getString(2),
                                rs.getString(3),
                                rs.getInt(4),
                                rs.getLong(5),
                                rs.getDouble(6),
                                rs.getDouble(7),
                                rs.getLong(8),
                                rs.getLong(9),
                                rs.getInt(10),
                                rs.getString(11)));
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        return rows;
    }

    record Cli(int code, String out, String err) {}

    static Cli cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        var cl = Main.commandLine();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new Cli(code, out.toString(), err.toString());
    }

    /** Progress messages, kept for assertions and passed to {@code then}. */
    static final class Messages implements ProgressListener {
        static final Messages NONE = new Messages(line -> {});

        final List<String> lines = Collections.synchronizedList(new ArrayList<>());
        private final Consumer<String> then;

        Messages(Consumer<String> then) {
            this.then = then;
        }

        @Override
        public void progress(String task, long done, long total) {}

        @Override
        public void message(String text) {
            lines.add(text);
            then.accept(text);
        }
    }
}
