package io.tinyptq.api.quant;

import java.util.Arrays;

/**
 * Scale {@code s} and zero-point {@code z} per channel (length 1 per tensor). Zero-points are stored as floats
 * so that LSQ-style optimizers can train them; initializers produce integer values.
 */
public record QuantParams(float[] scale, float[] zeroPoint) {
    public QuantParams {
        if (scale.length != zeroPoint.length || scale.length == 0) {
            throw new IllegalArgumentException("scale and zero-point need the same non-zero length, got " + scale.length
                    + " and " + zeroPoint.length);
        }
        for (int c = 0; c < scale.length; c++) {
            if (!(scale[c] > 0f) || !Float.isFinite(scale[c]) || !Float.isFinite(zeroPoint[c])) {
                throw new IllegalArgumentException("channel " + c + ": scale must be finite and > 0 and the zero-point"
                        + " finite, got s=" + scale[c] + ", z=" + zeroPoint[c]);
            }
        }
        scale = scale.clone();
        zeroPoint = zeroPoint.clone();
    }

    public int channels() {
        return scale.length;
    }

    @Override
    public float[] scale() {
        return scale.clone();
    }

    @Override
    public float[] zeroPoint() {
        return zeroPoint.clone();
    }

    public float scale(int channel) {
        return scale[channel];
    }

    public float zeroPoint(int channel) {
        return zeroPoint[channel];
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof QuantParams q && Arrays.equals(scale, q.scale) && Arrays.equals(zeroPoint, q.zeroPoint);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(scale) + Arrays.hashCode(zeroPoint);
    }

    @Override
    public String toString() {
        return "QuantParams[s=" + Arrays.toString(scale) + ", z=" + Arrays.toString(zeroPoint) + "]";
    }
}
