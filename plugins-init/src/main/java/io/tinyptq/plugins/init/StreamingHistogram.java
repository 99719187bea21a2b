package io.tinyptq.plugins.init;

import java.util.Arrays;

/**
 * A fixed-size histogram of a stream of values whose range is not known in advance, in O(bins) memory.
 *
 * <p>The bins always cover {@code [lo, lo + bins*width)} with {@code lo <= 0 <= hi}. When a value falls outside,
 * the width doubles and the range grows towards that value: when growing upwards, bin {@code i} merges into
 * {@code i/2}; when growing downwards, into {@code (i + bins)/2}. The merge is exact (bin edges of the new
 * histogram are edges of the old one), so the only approximation is the final bin width, at most twice
 * {@code (max - min) / bins}. Values are represented by their bin centre when the MSE search reads them.
 */
final class StreamingHistogram {
    private final double[] counts;
    private double lo;
    private double width;
    private boolean empty = true;
    private float min = Float.POSITIVE_INFINITY;
    private float max = Float.NEGATIVE_INFINITY;

    StreamingHistogram(int bins) {
        if (bins < 2 || bins % 2 != 0) {
            throw new IllegalArgumentException("bins must be even and >= 2, got " + bins);
        }
        counts = new double[bins];
    }

    void add(float[] values, int offset, int length) {
        float bmin = Float.POSITIVE_INFINITY;
        float bmax = Float.NEGATIVE_INFINITY;
        for (int i = offset; i < offset + length; i++) {
            float v = values[i];
            if (!Float.isFinite(v)) {
                throw new IllegalArgumentException("activation holds " + v + "; every value must be finite");
            }
            bmin = Math.min(bmin, v);
            bmax = Math.max(bmax, v);
        }
        if (length == 0) {
            return;
        }
        min = Math.min(min, bmin);
        max = Math.max(max, bmax);
        if (empty) {
            // Start with a range spanning the first batch and zero.
            lo = Math.min(bmin, 0f);
            double span = Math.max(Math.max(bmax, 0f) - lo, 1e-12);
            width = span * (1 + 1e-6) / counts.length;
            empty = false;
        }
        while (bmax >= lo + width * counts.length) {
            growUp();
        }
        while (bmin < lo) {
            growDown();
        }
        int bins = counts.length;
        for (int i = offset; i < offset + length; i++) {
            int b = (int) ((values[i] - lo) / width);
            counts[Math.min(Math.max(b, 0), bins - 1)]++;
        }
    }

    private void growUp() {
        int bins = counts.length;
        for (int i = 0; i < bins / 2; i++) {
            counts[i] = counts[2 * i] + counts[2 * i + 1];
        }
        Arrays.fill(counts, bins / 2, bins, 0);
        width *= 2;
    }

    private void growDown() {
        int bins = counts.length;
        for (int i = bins - 1; i >= bins / 2; i--) {
            int src = 2 * i - bins;
            counts[i] = counts[src] + counts[src + 1];
        }
        Arrays.fill(counts, 0, bins / 2, 0);
        lo -= width * bins;
        width *= 2;
    }

    boolean isEmpty() {
        return empty;
    }

    float min() {
        return min;
    }

    float max() {
        return max;
    }

    /** Bin centres and counts of the non-empty bins, as a weighted sample. */
    RangeSearch.Sample sample() {
        int n = 0;
        for (double c : counts) {
            if (c > 0) {
                n++;
            }
        }
        float[] v = new float[n];
        double[] w = new double[n];
        int k = 0;
        for (int i = 0; i < counts.length; i++) {
            if (counts[i] > 0) {
                // Clamp the centre into the observed range so that the extreme bins do not overshoot min/max.
                v[k] = (float) Math.min(Math.max(lo + (i + 0.5) * width, min), max);
                w[k++] = counts[i];
            }
        }
        return new RangeSearch.Sample(v, w);
    }
}
