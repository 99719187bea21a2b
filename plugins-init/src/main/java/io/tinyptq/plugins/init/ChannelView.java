package io.tinyptq.plugins.init;

import io.tinyptq.api.model.Tensor;
import io.tinyptq.api.quant.Granularity;
import io.tinyptq.api.quant.QuantizerSpec;

/**
 * The values of a weight tensor grouped by quantization channel: channel {@code c} of axis {@code a} in a
 * row-major tensor holds the elements whose index satisfies {@code (i / inner) % channels == c}, where
 * {@code inner} is the product of the dimensions after {@code a}. Per tensor there is one channel.
 */
final class ChannelView {
    private ChannelView() {}

    /** The values of each channel, copied into one array per channel. */
    static float[][] split(Tensor t, QuantizerSpec spec) {
        float[] x = t.data();
        if (spec.granularity() == Granularity.PER_TENSOR) {
            return new float[][] {x.clone()};
        }
        int axis = spec.channelAxis();
        int channels = t.shape().dim(axis);
        int inner = 1;
        for (int d = axis + 1; d < t.shape().rank(); d++) {
            inner *= t.shape().dim(d);
        }
        float[][] out = new float[channels][x.length / channels];
        int[] fill = new int[channels];
        for (int i = 0; i < x.length; i++) {
            int c = (i / inner) % channels;
            out[c][fill[c]++] = x[i];
        }
        return out;
    }

    static void checkAxis(Tensor t, QuantizerSpec spec) {
        if (spec.granularity() == Granularity.PER_CHANNEL
                && spec.channelAxis() >= t.shape().rank()) {
            throw new IllegalArgumentException(
                    "channel axis " + spec.channelAxis() + " does not exist in a tensor of shape " + t.shape());
        }
    }
}
