package io.tinyptq.sweep.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyptq.sweep.SweepRunner;
import io.tinyptq.sweep.Trial;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The spark executor on a standalone cluster of this machine (bin/spark-cluster): executors in JVMs of their own, a
 * worker killed mid-sweep, and GPUs handed out by a fake discovery script.
 */
@Timeout(900)
class StandaloneClusterIntegrationTest {
    @TempDir
    static Path dir;

    static ToySweep toy;

    @BeforeAll
    static void trainToyModel() {
        toy = new ToySweep(dir);
    }

    @Test
    void killingAWorkerMidSweepStillRecordsEveryTrialOnceWithTheLocalExecutorsAccuracies() throws Exception {
        Path sweep = toy.sweepFile("grid");
        Map<String, ToySweep.Row> local = toy.localRows(sweep);
        Path out = dir.resolve("cluster-grid");
        List<Trial> trials = toy.trials(sweep, out);
        try (StandaloneCluster cluster =
                new StandaloneCluster(dir.resolve("cluster"), "--workers", "2", "--cores", "1", "--memory", "1g")) {
            SparkTrialExecutor spark = executorOn(cluster);
            assertEquals(2, spark.capacity());
            // Both executors up, so that the first two trials run side by side, one on each.
            for (int i = 0; i < 600 && spark.executors() < 2; i++) {
                sleep(100);
            }
            assertEquals(2, spark.executors());
            AtomicBoolean killed = new AtomicBoolean();
            AtomicInteger killedWorker = new AtomicInteger();
            // When the first trial has finished, the other executor is still busy with its first one: kill its worker
            // then (on a thread of its own: the sweep submits the next trial meanwhile).
            ToySweep.Messages messages = new ToySweep.Messages(line -> {
                if (!killed.getAndSet(true)) {
                    String finishedOn = spark.placements().getFirst().executorId();
                    int other = cluster.workerOf(finishedOn) == 1 ? 2 : 1;
                    Thread.ofPlatform().daemon().start(() -> cluster.killWorker(other));
                    killedWorker.set(other);
                }
            });
            SweepRunner.Summary s = toy.run(spark, out.resolve("results.db"), trials, messages);

            assertTrue(killed.get());
            // SIGKILL is delivered at once, the process goes when it is reaped: wait for that, under load too.
            boolean gone = ProcessHandle.of(cluster.workerPid(killedWorker.get()))
                    .map(h -> {
                        try {
                            h.onExit().get(60, TimeUnit.SECONDS);
                            return true;
                        } catch (Exception e) {
                            return !h.isAlive();
                        }
                    })
                    .orElse(true);
            assertTrue(gone, "worker " + killedWorker.get() + " still alive 60 s after kill -9");
            assertEquals(8, s.ran(), s.text() + "\n" + messages.lines);
            assertEquals(0, s.failed(), s.text() + "\n" + messages.lines);
            Map<String, ToySweep.Row> rows = ToySweep.rows(out.resolve("results.db"));
            assertEquals(local, rows, "every trial once, done, with the local executor's figures");
            // Where the killed worker's executor held a task, the task ran again on the other executor. Under load the
            // other executor can finish its trial before the kill lands; the database must hold every trial once
            // either way, which is what is asserted above.
            assertTrue(spark.taskAttempts() >= 8, "task attempts: " + spark.taskAttempts());
            System.out.println("standalone cluster: " + spark.taskAttempts() + " task attempts for 8 trials"
                    + (spark.taskAttempts() > 8
                            ? " (the killed worker's task ran again)"
                            : " (the kill found no task)"));
            Set<String> executors = new TreeSet<>();
            spark.placements().forEach(p -> executors.add(p.executorId()));
            assertFalse(executors.contains("driver"), "trials ran in executor JVMs, not the driver: " + executors);
        }
    }

    /**
     * kill -9 of the driver (the {@code tinyptq sweep --executor spark} process, started by {@code bin/tinyptq}) once a
     * trial has finished: the rows it committed stay, the trials it had claimed stay {@code running} with a dead
     * owner, and the next sweep on the same database runs exactly those and the ones never started, each once, with
     * the local executor's figures.
     */
    @Test
    void killingTheDriverMidSweepLosesOnlyTheTrialsInFlight() throws Exception {
        Path sweep = toy.sweepFile("driver");
        Map<String, ToySweep.Row> local = toy.localRows(sweep);
        Path out = dir.resolve("driver-grid");
        Path db = out.resolve("results.db");
        try (StandaloneCluster cluster = new StandaloneCluster(
                dir.resolve("driver-cluster"), "--workers", "2", "--cores", "1", "--memory", "1g")) {
            Process driver = new ProcessBuilder(
                            StandaloneCluster.ROOT.resolve("bin/tinyptq").toString(),
                            "sweep",
                            sweep.toString(),
                            "--out",
                            out.toString(),
                            "--datasets",
                            toy.datasets.toString(),
                            "--data-root",
                            toy.dataRoot.toString(),
                            "--executor",
                            "spark",
                            "--master",
                            cluster.master,
                            "--conf",
                            "spark.ui.enabled=false",
                            "--conf",
                            "spark.executor.memory=768m")
                    .redirectErrorStream(true)
                    .start();
            // Its output is drained on a thread of its own; the database says when a trial is done and another in
            // flight (the driver claims the next trial as soon as one ends).
            StringBuilder output = new StringBuilder();
            Thread.ofPlatform().daemon().start(() -> {
                try (var reader = driver.inputReader()) {
                    reader.lines().forEach(l -> output.append(l).append('\n'));
                } catch (java.io.IOException e) {
                    output.append(e);
                }
            });
            boolean caught = false;
            for (int i = 0; i < 6000 && !caught && driver.isAlive(); i++) {
                if (Files.exists(db)) {
                    try {
                        var rows = ToySweep.rows(db).values();
                        caught = rows.stream().anyMatch(r -> "done".equals(r.status()))
                                && rows.stream().anyMatch(r -> "running".equals(r.status()));
                    } catch (IllegalStateException notYetCreated) {
                        // the driver is creating the trials table
                    }
                }
                if (caught) {
                    driver.destroyForcibly();
                } else {
                    sleep(20);
                }
            }
            assertTrue(caught, "no moment with a trial done and another in flight:\n" + output);
            assertTrue(driver.waitFor(60, TimeUnit.SECONDS), "the driver outlived kill -9");

            Map<String, ToySweep.Row> before = ToySweep.rows(db);
            Map<String, ToySweep.Row> done = new java.util.TreeMap<>(before);
            done.values().removeIf(r -> !"done".equals(r.status()));
            long inFlight = before.values().stream()
                    .filter(r -> "running".equals(r.status()))
                    .count();
            assertFalse(done.isEmpty(), "no trial committed before the kill: " + before);
            assertTrue(inFlight >= 1, "no trial in flight at the kill: " + before);
            assertEquals(before.size(), done.size() + inFlight, "after the kill: " + before);

            SparkTrialExecutor spark = executorOn(cluster);
            SweepRunner.Summary s = toy.run(spark, db, toy.trials(sweep, out), ToySweep.Messages.NONE);
            assertEquals(done.size(), s.skipped(), s.text());
            assertEquals(8 - done.size(), s.ran(), s.text());
            Map<String, ToySweep.Row> after = ToySweep.rows(db);
            done.forEach((key, row) -> assertEquals(row, after.get(key), "a committed row changed"));
            assertEquals(local.keySet(), after.keySet());
            local.forEach((key, row) ->
                    assertEquals(row.withAttempts(0), after.get(key).withAttempts(0), "the local executor's figures"));
            System.out.println(
                    "driver killed after " + done.size() + " of 8 trials, " + inFlight + " in flight ran again");
        }
    }

    @Test
    void eachTaskGetsAGpuAddressOfItsOwnFromTheDiscoveryScript() throws Exception {
        Path script = Files.writeString(dir.resolve("fake-gpus.sh"), """
                #!/usr/bin/env bash
                # Two GPUs that are not there, as Spark's resource discovery expects them.
                echo '{"name":"gpu","addresses":["0","1"]}'
                """);
        assertTrue(script.toFile().setExecutable(true));
        Path sweep = toy.sweepFile("gpus");
        List<Trial> trials = toy.trials(sweep, dir.resolve("gpu-grid")).subList(0, 2);
        try (StandaloneCluster cluster = new StandaloneCluster(
                dir.resolve("gpu-cluster"),
                "--workers",
                "1",
                "--cores",
                "2",
                "--memory",
                "2g",
                "--gpus",
                "2",
                "--gpu-script",
                script.toString())) {
            SparkTrialExecutor spark = SparkTrialExecutor.start(
                    Map.of(
                            "spark.master",
                            cluster.master,
                            "spark.ui.enabled",
                            "false",
                            "spark.executor.memory",
                            "1g",
                            "spark.executor.resource.gpu.amount",
                            "2",
                            "spark.task.resource.gpu.amount",
                            "1"),
                    toy.dataRoot,
                    toy.datasets);
            SweepRunner.Summary s = toy.run(spark, dir.resolve("gpu-grid/results.db"), trials, ToySweep.Messages.NONE);
            assertEquals(2, s.ran(), s.text());
            List<TaskPlacement> placements = spark.placements();
            Set<String> gpus = new TreeSet<>();
            for (TaskPlacement p : placements) {
                gpus.add(p.gpu());
                // What the trial's recipe gets when it runs on the tornado backend.
                assertEquals("0:" + p.gpu(), p.resources().device(), p.toString());
                assertEquals(1, p.resources().threads(), p.toString());
            }
            assertEquals(Set.of("0", "1"), gpus, "the two side-by-side tasks: " + placements);
        }
    }

    /** A spark executor on {@code cluster}'s workers, 768 MB each, without Spark's web UI. */
    private static SparkTrialExecutor executorOn(StandaloneCluster cluster) {
        return SparkTrialExecutor.start(
                Map.of("spark.master", cluster.master, "spark.ui.enabled", "false", "spark.executor.memory", "768m"),
                toy.dataRoot,
                toy.datasets);
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
