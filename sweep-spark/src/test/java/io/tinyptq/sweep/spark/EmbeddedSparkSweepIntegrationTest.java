package io.tinyptq.sweep.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyptq.api.spi.ProgressListener;
import io.tinyptq.sweep.SweepRunner;
import io.tinyptq.sweep.Trial;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The spark executor embedded ({@code local[2]}): the local executor's rows, a trial's own failure recorded once, and
 * bad settings as one line.
 */
@Timeout(600)
class EmbeddedSparkSweepIntegrationTest {
    @TempDir
    static Path dir;

    static ToySweep toy;

    @BeforeAll
    static void trainToyModel() {
        toy = new ToySweep(dir);
    }

    @Test
    void localTwoGivesTheLocalExecutorsRowsBitForBit() {
        Path sweep = toy.sweepFile("grid");
        Map<String, ToySweep.Row> local = toy.localRows(sweep);
        assertEquals(8, local.size(), local.toString());

        Path out = dir.resolve("spark-grid");
        ToySweep.Cli run = ToySweep.cli(
                "sweep",
                sweep.toString(),
                "--executor",
                "spark",
                "--master",
                "local[2]",
                "--out",
                out.toString(),
                "--datasets",
                toy.datasets.toString(),
                "--data-root",
                toy.dataRoot.toString());
        assertEquals(0, run.code(), run.out() + run.err());
        assertTrue(run.out().contains(", 2 at a time, longest first (executor spark); results in "), run.out());
        assertTrue(run.out().contains("8 trials: 8 run, 0 already done, 0 failed"), run.out());
        Map<String, ToySweep.Row> spark = ToySweep.rows(out.resolve("results.db"));
        // Same keys, and every measured figure equal as doubles: bit for bit.
        assertEquals(local, spark);
        spark.values().forEach(r -> assertEquals("done", r.status(), r.toString()));
    }

    @Test
    void aTrialThatFailsForItsOwnReasonsIsRecordedFailedWithItsMessageAndRunOnce() {
        // The calibration data is looked up when the trial runs, in the task.
        Path sweep = toy.sweepFile(
                "failing",
                "{name: broken, model: " + toy.model
                        + ", data: test, calib_data: no-such-data, calib: 32, limit: 100}");
        Path out = dir.resolve("spark-failing");
        List<Trial> trials = toy.trials(sweep, out);
        assertEquals(16, trials.size());
        // local[2,4]: Spark would run a failed task up to 4 times, as on a cluster.
        SparkTrialExecutor spark = SparkTrialExecutor.start(
                Map.of("spark.master", "local[2,4]", "spark.ui.enabled", "false"), toy.dataRoot, toy.datasets);
        SweepRunner.Summary s = toy.run(spark, out.resolve("results.db"), trials, ProgressListener.NONE);

        assertEquals(8, s.ran(), s.text());
        assertEquals(8, s.failed(), s.text());
        assertEquals(16, spark.taskAttempts(), "one task per trial, none retried");
        for (ToySweep.Row r : ToySweep.rows(out.resolve("results.db")).values()) {
            assertEquals(1, r.attempts(), r.toString());
            if (r.status().equals("failed")) {
                assertTrue(r.error().contains("no-such-data"), r.error());
            } else {
                assertEquals("done", r.status(), r.toString());
            }
        }
        assertTrue(
                s.failures().stream().allMatch(f -> f.startsWith("broken ")),
                s.failures().toString());
    }

    @Test
    void badSettingsAreOneLineAndExitStatusTwo() {
        Path sweep = toy.sweepFile("bad");
        String[] common = {"--out", dir.resolve("bad").toString(), "--datasets", toy.datasets.toString()};
        ToySweep.Cli unknown =
                ToySweep.cli(concat(new String[] {"sweep", sweep.toString(), "--executor", "ray"}, common));
        assertEquals(2, unknown.code(), unknown.err());
        assertTrue(unknown.err().startsWith("error: unknown executor 'ray'; known: local, spark"), unknown.err());
        assertEquals(1, unknown.err().lines().count(), unknown.err());

        ToySweep.Cli badConf = ToySweep.cli(concat(
                new String[] {"sweep", sweep.toString(), "--executor", "spark", "--conf", "spark.task.cpus"}, common));
        assertEquals(2, badConf.code(), badConf.err());
        assertEquals("error: --conf 'spark.task.cpus': expected KEY=VALUE, e.g. spark.task.cpus=2\n", badConf.err());

        ToySweep.Cli badMaster = ToySweep.cli(concat(
                new String[] {"sweep", sweep.toString(), "--executor", "spark", "--master", "nowhere://x"}, common));
        assertEquals(2, badMaster.code(), badMaster.err());
        assertTrue(badMaster.err().contains("error: cannot start Spark with master 'nowhere://x': "), badMaster.err());
    }

    static String[] concat(String[] a, String[] b) {
        String[] c = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }
}
