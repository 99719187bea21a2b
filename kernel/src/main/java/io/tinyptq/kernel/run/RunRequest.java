package io.tinyptq.kernel.run;

import io.tinyptq.kernel.recipe.Recipe;
import java.nio.file.Path;
import java.util.Objects;

/**
 * One PTQ run: a resolved recipe (overrides already applied), the FP model file, the evaluation data and where
 * calibration samples come from.
 *
 * @param data          evaluation dataset: descriptor name or file
 * @param calibData     calibration dataset (descriptor name or file), or {@code null} to draw the calibration
 *                      samples from {@code data} and keep them out of its evaluation
 * @param dataRoot      root that descriptor paths are relative to
 * @param datasets      folder of named descriptors ({@code datasets/}), may be null
 * @param outDir        where the report, encodings, quantized model and provenance go, or null
 * @param evalLimit     evaluate at most this many samples (0: all)
 */
public record RunRequest(
        Recipe recipe,
        Path model,
        String data,
        String calibData,
        Path dataRoot,
        Path datasets,
        Path outDir,
        int evalLimit) {
    public RunRequest {
        Objects.requireNonNull(recipe);
        Objects.requireNonNull(model);
        Objects.requireNonNull(data);
    }
}
