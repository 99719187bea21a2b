package io.tinyptq.kernel.recipe;

import io.tinyptq.api.options.Option;

/**
 * How much calibration data a run uses (the recipe's {@code calibration:} section).
 *
 * @param size      samples drawn from the calibration split
 * @param batchSize samples per forward pass while collecting activation statistics
 */
public record Calibration(
        @Option(description = "number of calibration samples", min = 1, max = 1_000_000) int size,
        @Option(description = "samples per batch when collecting activation statistics", min = 1, max = 4096) int batchSize) {

    /** 1024 samples, as BRECQ and QDrop calibrate. */
    public static final Calibration DEFAULTS = new Calibration(1024, 32);
}
