package io.tinyptq.sweep;

import io.tinyptq.kernel.Kernel;
import io.tinyptq.kernel.pipeline.RunOptions;
import io.tinyptq.kernel.recipe.Recipe;
import io.tinyptq.kernel.recipe.RecipeOverrides;
import io.tinyptq.kernel.run.PtqRun;
import io.tinyptq.kernel.run.RunReport;
import io.tinyptq.kernel.run.RunRequest;
import java.nio.file.Path;
import java.util.List;

/**
 * Runs one trial as one {@link PtqRun}: what every {@link TrialExecutor} does with a trial, whether it runs in this
 * JVM or in a cluster's executor.
 */
public final class TrialRun {
    private final Kernel kernel;
    private final Path dataRoot;
    private final Path datasets;

    /**
     * @param dataRoot root of the data files that dataset descriptors name
     * @param datasets folder of dataset descriptors (may be null)
     */
    public TrialRun(Kernel kernel, Path dataRoot, Path datasets) {
        this.kernel = kernel;
        this.dataRoot = dataRoot;
        this.datasets = datasets;
    }

    /** Loads the trial's resolved recipe, gives it {@code resources} and runs it; writes under its output folder. */
    public RunReport run(Trial trial, TrialResources resources, RunOptions options) {
        options.cancellation().check("trial " + trial.label());
        Recipe recipe = kernel.recipes().load(trial.recipeYaml(), "trial " + trial.label());
        List<String> given = resources.overrides(recipe.backend().plugin(), trial.overrides());
        if (!given.isEmpty()) {
            recipe = RecipeOverrides.apply(recipe, given, kernel.recipes());
        }
        RunRequest request = new RunRequest(
                recipe,
                Path.of(trial.modelFile()),
                trial.data(),
                trial.calibData(),
                dataRoot,
                datasets,
                Path.of(trial.outDir()),
                trial.evalLimit());
        return new PtqRun(kernel.registry(), kernel.runner())
                .run(request, new RunOptions(options.progress(), options.cancellation(), null));
    }
}
