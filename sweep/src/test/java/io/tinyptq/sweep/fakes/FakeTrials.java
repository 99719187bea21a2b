package io.tinyptq.sweep.fakes;

import io.tinyptq.api.spi.BackendInfo;
import io.tinyptq.kernel.pipeline.Provenance;
import io.tinyptq.kernel.pipeline.RunOptions;
import io.tinyptq.kernel.run.RunReport;
import io.tinyptq.sweep.Trial;
import io.tinyptq.sweep.TrialExecutor;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Predicate;

/** Trials and reports without running a pipeline, and an executor that records what it ran. */
public final class FakeTrials {
    private FakeTrials() {}

    public static Trial trial(int i) {
        return new Trial(
                String.format("%064x", i + 1),
                i + 1,
                "fake",
                "m" + (i % 2),
                "model.tflite",
                "data",
                null,
                64,
                0,
                "method" + (i % 3),
                "mse",
                4,
                4,
                i,
                List.of("seed=" + i),
                "name: mse\nseed: " + i + "\n",
                "out/" + i);
    }

    public static List<Trial> trials(int n) {
        List<Trial> t = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            t.add(trial(i));
        }
        return t;
    }

    /** A report whose accuracy is a function of the trial, so tests can check what was recorded. */
    public static RunReport report(Trial t) {
        Map<String, Double> seconds = new LinkedHashMap<>();
        seconds.put("fp_eval", 0.5);
        seconds.put("optimize", 1.25);
        seconds.put("eval", 0.25);
        Provenance p = new Provenance(
                "test",
                "25",
                "linux",
                Instant.parse("2026-01-01T00:00:00Z"),
                t.seed(),
                t.recipe(),
                t.recipeYaml(),
                t.modelFile(),
                "calib",
                List.of(),
                new BackendInfo("cpu", "fake", 1, 16),
                seconds);
        return new RunReport(
                t.recipe(),
                t.modelFile(),
                t.data(),
                "calib",
                t.seed(),
                t.weightBits(),
                t.activationBits(),
                8,
                90.0,
                80.0 + t.index() / 10.0,
                100,
                1_000L * t.weightBits() * t.activationBits(),
                1_024_000L,
                100L * t.weightBits(),
                3_200L,
                seconds,
                p);
    }

    /** Runs trials at once on the calling thread; throws (as a killed sweep would stop) when {@code kill} says so. */
    public static final class Executor implements TrialExecutor {
        public final List<String> ran = Collections.synchronizedList(new ArrayList<>());
        private final Predicate<Trial> kill;
        private final Predicate<Trial> fail;

        public Executor(Predicate<Trial> kill, Predicate<Trial> fail) {
            this.kill = kill;
            this.fail = fail;
        }

        public Executor() {
            this(t -> false, t -> false);
        }

        @Override
        public int capacity() {
            return 1;
        }

        @Override
        public CompletableFuture<RunReport> submit(Trial trial, RunOptions options) {
            if (kill.test(trial)) {
                throw new KilledException("killed while running " + trial.label());
            }
            ran.add(trial.key());
            if (fail.test(trial)) {
                return CompletableFuture.failedFuture(new IllegalStateException("trial failed on purpose"));
            }
            return CompletableFuture.completedFuture(report(trial));
        }

        @Override
        public void close() {}
    }

    /** Stands for the process dying in the middle of a sweep. */
    public static final class KilledException extends RuntimeException {
        public KilledException(String message) {
            super(message);
        }
    }
}
