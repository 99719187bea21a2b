package io.tinyptq.sweep;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tinyptq.api.model.Model;
import io.tinyptq.api.spi.ProgressListener;
import io.tinyptq.kernel.Kernel;
import io.tinyptq.kernel.pipeline.CancellationToken;
import io.tinyptq.kernel.pipeline.RunOptions;
import io.tinyptq.kernel.run.RunReport;
import io.tinyptq.kernel.stats.ModelStats;
import io.tinyptq.kernel.store.QuantizedModelStore;
import io.tinyptq.recipes.BundledRecipes;
import io.tinyptq.sweep.fakes.FakeTrials;
import io.tinyptq.zoo.Zoo;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrialCostTest {
    static final Kernel kernel = Kernel.discover();

    /** Two recipes on the toy CNN: mse (no optimize step) and adaround at 50 iterations of 32 samples. */
    static List<Trial> grid(Path dir) {
        Model toy = Zoo.build("toy-cnn", 1);
        QuantizedModelStore.save(toy, null, dir.resolve("toy"));
        String yaml = """
                name: costs
                models:
                  - {name: toy, model: %s, data: synthetic-test, calib: 64, limit: 100}
                recipes:
                  - {recipe: mse}
                  - {recipe: adaround, overrides: [optimize.round.iterations=50, optimize.round.batch_size=32]}
                bits: [8/8, 4/4]
                seeds: [0]
                """.formatted(dir.resolve("toy"));
        return SweepPlan.expand(
                SweepFiles.load(yaml, "costs.yaml"), dir, BundledRecipes::yaml, kernel.recipes(), dir.resolve("out"));
    }

    @Test
    void theEstimateIsTheModelsMacsTimesTheSamplesPushedThroughIt(@TempDir Path dir) {
        List<Trial> trials = grid(dir);
        long macs = ModelStats.of(Zoo.build("toy-cnn", 1)).macs();
        TrialCost cost = TrialCost.of(kernel.registry());
        // evaluation 2 x 100, calibration 4 x 64, optimize 3 x 50 x 32 (mse has no optimize step)
        assertEquals(macs * (2 * 100 + 4 * 64), cost.estimate(trials.get(0)));
        assertEquals(macs * (2 * 100 + 4 * 64 + 3 * 50 * 32), cost.estimate(trials.get(2)));
        assertEquals(50 * 32, TrialCost.optimizeSamples(trials.get(3).recipeYaml()));
    }

    @Test
    void longestFirstPutsTheOptimizingTrialsFirstAndKeepsTheGridOrderAmongEqualCosts(@TempDir Path dir) {
        List<Trial> trials = grid(dir);
        List<String> order = TrialCost.of(kernel.registry()).longestFirst(trials).stream()
                .map(Trial::label)
                .toList();
        assertEquals(
                List.of(
                        "toy adaround W8A8 seed 0",
                        "toy adaround W4A4 seed 0",
                        "toy mse W8A8 seed 0",
                        "toy mse W4A4 seed 0"),
                order);
    }

    @Test
    void aModelThatCannotBeReadCostsItsSamplesAlone() {
        Trial t = FakeTrials.trial(0);
        TrialCost cost = new TrialCost(file -> {
            throw new IllegalStateException("unreadable " + file);
        });
        assertEquals(2.0 * TrialCost.FULL_EVALUATION + 4 * 64, cost.estimate(t));
    }

    @Test
    void severalTrialsAtOnceStartLongestFirstAndOneAtATimeInTheGridsOrder(@TempDir Path dir) {
        // Fake trials alternate between model files m0 (1 MAC per sample) and m1 (10): the m1 trials go first.
        List<Trial> trials = FakeTrials.trials(4).stream()
                .map(t -> withModelFile(t, t.model()))
                .toList();
        TrialCost byModel = new TrialCost(file -> file.equals("m1") ? 10 : 1);
        assertEquals(List.of(2, 4, 1, 3), submitted(dir.resolve("a.db"), trials, 2, byModel));
        assertEquals(List.of(1, 2, 3, 4), submitted(dir.resolve("b.db"), trials, 1, byModel));
        assertEquals(List.of(1, 2, 3, 4), submitted(dir.resolve("c.db"), trials, 2, new TrialCost(file -> 1)));
    }

    /** {@code t} with the model file {@code file}. */
    static Trial withModelFile(Trial t, String file) {
        return new Trial(
                t.key(),
                t.index(),
                t.sweep(),
                t.model(),
                file,
                t.data(),
                t.calibData(),
                t.calibSize(),
                t.evalLimit(),
                t.method(),
                t.recipe(),
                t.weightBits(),
                t.activationBits(),
                t.seed(),
                t.overrides(),
                t.recipeYaml(),
                t.outDir());
    }

    private static List<Integer> submitted(Path db, List<Trial> trials, int capacity, TrialCost cost) {
        List<Integer> order = Collections.synchronizedList(new ArrayList<>());
        TrialExecutor ex = new TrialExecutor() {
            @Override
            public int capacity() {
                return capacity;
            }

            @Override
            public CompletableFuture<RunReport> submit(Trial trial, RunOptions options) {
                order.add(trial.index());
                return CompletableFuture.completedFuture(FakeTrials.report(trial));
            }

            @Override
            public void close() {}
        };
        try (ResultsDb results = ResultsDb.open(db)) {
            new SweepRunner(results, ex, ProgressListener.NONE, new CancellationToken(), cost).run(trials);
        }
        return order;
    }
}
