package io.tinyptq.kernel.recipe;

import io.tinyptq.api.options.Option;

/**
 * How much calibration data a run uses (the recipe's {@code calibration:} section).
 *
 * @param size      samples drawn from the calibration split
 * @param batchSize samples per forward pass while collecting activation statistics
 * @param augment   extra samples derived from the drawn ones ({@link CalibrationAugment}); the pipeline then
 *                  calibrates on {@code size * augment.factor()} samples
 */
public record Calibration(
        @Option(description = "number of calibration samples", min = 1, max = 1_000_000)
        int size,

        @Option(description = "samples per batch when collecting activation statistics", min = 1, max = 4096)
        int batchSize,

        @Option(
                description = "add derived samples: none, or hflip (each image also mirrored left to right; images "
                        + "of shape (height, width, channels) only: it mirrors the second axis, which is not width for e.g. MFCC "
                        + "features)")
        CalibrationAugment augment) {

    /** 1024 samples, as BRECQ and QDrop calibrate, without augmentation. */
    public static final Calibration DEFAULTS = new Calibration(1024, 32, CalibrationAugment.NONE);

    public Calibration(int size, int batchSize) {
        this(size, batchSize, CalibrationAugment.NONE);
    }

    public Calibration {
        if (augment == null) {
            augment = CalibrationAugment.NONE;
        }
    }

    /** The same section with another sample count. */
    public Calibration withSize(int value) {
        return new Calibration(value, batchSize, augment);
    }
}
