package io.tinyptq.kernel.recipe;

import io.tinyptq.api.TinyPtqException;
import io.tinyptq.api.model.Shape;
import io.tinyptq.api.spi.CalibrationSet;

/**
 * Calibration samples derived from the drawn ones. Reconstruction fits every unit to the calibration set for many
 * passes (20,000 steps of 32 are 128 passes over 5,000 images), so a larger set of plausible inputs lowers the
 * fit to the particular samples; a mirrored image is as likely an input of an image classifier as the original
 * (CIFAR-10 and visual wake words models are trained with random flips). Only the user knows whether a transform
 * preserves the data's meaning (mirroring a spectrogram's time axis does not), so nothing is augmented by default.
 */
public enum CalibrationAugment {
    /** The drawn samples only. */
    NONE,
    /** The drawn samples, then each one mirrored along its width axis (samples of shape H x W x C). */
    HFLIP;

    /** How many samples the augmented set holds per drawn sample. */
    public int factor() {
        return this == NONE ? 1 : 2;
    }

    /** {@code set} followed by its derived samples (labels repeated); {@code set} itself for NONE. */
    public CalibrationSet apply(CalibrationSet set) {
        if (this == NONE) {
            return set;
        }
        Shape s = set.sampleShape();
        if (s.rank() != 3) {
            throw new TinyPtqException("calibration.augment = hflip needs image samples of shape (height, width, "
                    + "channels), but " + set.source() + " has samples of shape " + s);
        }
        int h = s.dim(0);
        int w = s.dim(1);
        int c = s.dim(2);
        int n = set.size();
        int size = set.sampleSize();
        float[] in = set.data();
        float[] out = new float[2 * in.length];
        System.arraycopy(in, 0, out, 0, in.length);
        for (int i = 0; i < n; i++) {
            int base = i * size;
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    // pixel (y, x) of the mirror is pixel (y, w - 1 - x) of the original
                    System.arraycopy(in, base + (y * w + (w - 1 - x)) * c, out, in.length + base + (y * w + x) * c, c);
                }
            }
        }
        int[] labels = set.labels();
        int[] outLabels = new int[labels.length * 2];
        System.arraycopy(labels, 0, outLabels, 0, labels.length);
        System.arraycopy(labels, 0, outLabels, labels.length, labels.length);
        return new CalibrationSet(set.source() + " + left-right mirrors (" + 2 * n + " samples)", s, out, outLabels);
    }
}
