package io.tinyptq.api.spi;

import io.tinyptq.api.model.Shape;

/**
 * The calibration samples a run quantizes with: {@code size} samples of {@code sampleShape}, back to back in
 * {@code data} (already preprocessed for the model).
 *
 * @param source      where the samples came from (dataset and split), for provenance
 * @param sampleShape per-sample shape
 * @param data        {@code size * sampleShape.size()} values
 * @param labels      class labels (length {@code size}), or an empty array when unlabeled
 */
public record CalibrationSet(String source, Shape sampleShape, float[] data, int[] labels) {
    public CalibrationSet {
        if (data.length % sampleShape.size() != 0) {
            throw new IllegalArgumentException("calibration data from " + source + ": " + data.length
                    + " values is not a whole number of samples of shape " + sampleShape);
        }
        int n = data.length / sampleShape.size();
        if (labels.length != 0 && labels.length != n) {
            throw new IllegalArgumentException(
                    "calibration data from " + source + ": " + n + " samples but " + labels.length + " labels");
        }
    }

    public int size() {
        return data.length / sampleShape.size();
    }

    public int sampleSize() {
        return sampleShape.size();
    }
}
