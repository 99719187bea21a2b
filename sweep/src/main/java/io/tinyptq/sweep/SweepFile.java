package io.tinyptq.sweep;

import io.tinyptq.api.options.Option;
import java.util.List;

/**
 * A sweep file as written: the grid {@code models x recipes x bits x seeds} and the recipe overrides that apply
 * to every trial. {@link SweepFiles#load} binds it strictly (unknown keys fail with file:line:column and the
 * known keys), through the kernel's option binder, like recipes.
 *
 * <pre>{@code
 * name: cpu-reduced
 * description: ResNet-8 and DS-CNN, MSE and AdaRound, W8A8/W4A4/W3A3, 2 seeds
 * models:
 *   - {name: resnet8, model: ../shared/models/pretrainedResnet.tflite, data: cifar10-test,
 *      calib_data: cifar10-train5k, calib: 512, limit: 2000}
 * recipes:
 *   - {recipe: mse}
 *   - {recipe: adaround, overrides: [optimize.round.iterations=2000]}
 * bits: [8/8, 4/4, 3/3]          # weight/activation bit-widths
 * seeds: [0, 1]
 * overrides: [backend.threads=2] # every trial
 * }</pre>
 */
public record SweepFile(
        @Option(description = "name of the sweep (reports and output folders use it)", pattern = "[A-Za-z0-9._-]+")
        String name,

        @Option(description = "one sentence on what the sweep measures")
        String description,

        @Option(
                description = "models with their data, each crossed with every recipe, bit-width pair and seed",
                min = 1)
        List<ModelEntry> models,

        @Option(description = "recipes (bundled names or YAML files) with their own overrides", min = 1)
        List<RecipeEntry> recipes,

        @Option(description = "weight/activation bit-width pairs, e.g. [8/8, 4/4, 3/3]", min = 1)
        List<String> bits,

        @Option(description = "seeds; each trial's recipe seed (calibration draw and every random choice)", min = 1)
        List<Long> seeds,

        @Option(description = "key=value recipe overrides applied to every trial before the recipe's own")
        List<String> overrides) {

    /**
     * One model and the data it is calibrated and evaluated on (as {@code tinyptq run} takes them).
     *
     * @param model      model file or stored model folder; a relative path is taken from the working directory
     * @param calibData  calibration dataset, or absent to draw calibration samples from {@code data} (and keep
     *                   them out of its evaluation)
     * @param calib      calibration samples (overrides the recipe's {@code calibration.size}), or absent
     * @param limit      evaluate at most this many samples, or absent for all
     */
    public record ModelEntry(
            @Option(description = "short name used in tables and charts", pattern = "[A-Za-z0-9._-]+")
            String name,

            @Option(description = "float model file (.tflite) or stored model folder")
            String model,

            @Option(description = "evaluation dataset: descriptor name or file")
            String data,

            @Option(description = "calibration dataset; absent: drawn from data and kept out of its evaluation")
            String calibData,

            @Option(description = "calibration samples", min = 1)
            Integer calib,

            @Option(description = "evaluate at most this many samples (0: all)", min = 0)
            Integer limit) {}

    /**
     * A recipe of the grid.
     *
     * @param recipe    a bundled recipe name ({@code tinyptq recipe list}) or a YAML file (a relative path is taken
     *                  from the sweep file's folder)
     * @param label     the method's name in tables and charts (default: the recipe name); two entries may use one
     *                  recipe with different overrides and labels (an ablation)
     * @param overrides key=value overrides of this recipe, applied after the sweep's
     */
    public record RecipeEntry(
            @Option(description = "bundled recipe name or YAML file")
            String recipe,

            @Option(description = "method name in tables and charts (default: the recipe name)")
            String label,

            @Option(description = "key=value overrides of this recipe")
            List<String> overrides) {}
}
