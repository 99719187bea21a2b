package io.tinyptq.sweep;

import java.io.Serializable;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * One point of a sweep's grid, fully resolved: plain values only, so that an executor may run it anywhere (the
 * recipe travels as resolved YAML, every override applied; Java-serializable for executors in other JVMs).
 *
 * @param key         hash of the resolved settings ({@link SweepPlan#key}); the database's primary key
 * @param index       position in the sweep's expansion (1-based), for progress lines
 * @param model       the model entry's short name
 * @param modelFile   the model file or folder, as the sweep file resolves it
 * @param calibData   calibration dataset, or {@code null} to draw from {@code data}
 * @param calibSize   calibration samples (the resolved recipe's {@code calibration.size})
 * @param evalLimit   evaluate at most this many samples (0: all)
 * @param method      the recipe entry's label (its recipe name by default)
 * @param recipe      the recipe as the sweep file names it (bundled name or file)
 * @param overrides   every override applied to the recipe, in order (sweep, recipe entry, then the grid's)
 * @param recipeYaml  the resolved recipe
 * @param outDir      the trial's own output directory
 */
public record Trial(
        String key,
        int index,
        String sweep,
        String model,
        String modelFile,
        String data,
        String calibData,
        int calibSize,
        int evalLimit,
        String method,
        String recipe,
        int weightBits,
        int activationBits,
        long seed,
        List<String> overrides,
        String recipeYaml,
        String outDir)
        implements Serializable {
    public Trial {
        Objects.requireNonNull(key);
        Objects.requireNonNull(recipeYaml);
        overrides = List.copyOf(overrides);
    }

    /**
     * This trial with its model file and output folder resolved against this JVM's working directory, for an
     * executor whose working directory is another (a cluster's executors run in folders of their own).
     */
    public Trial withAbsolutePaths() {
        return new Trial(
                key,
                index,
                sweep,
                model,
                absolute(modelFile),
                data,
                calibData,
                calibSize,
                evalLimit,
                method,
                recipe,
                weightBits,
                activationBits,
                seed,
                overrides,
                recipeYaml,
                absolute(outDir));
    }

    private static String absolute(String path) {
        return Path.of(path).toAbsolutePath().normalize().toString();
    }

    /** {@code resnet8 adaround W4A4 seed 1}. */
    public String label() {
        return String.format(Locale.ROOT, "%s %s W%dA%d seed %d", model, method, weightBits, activationBits, seed);
    }
}
