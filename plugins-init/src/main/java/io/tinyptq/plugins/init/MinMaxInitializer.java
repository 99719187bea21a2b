package io.tinyptq.plugins.init;

import io.tinyptq.api.model.Tensor;
import io.tinyptq.api.options.NoOptions;
import io.tinyptq.api.quant.FakeQuant;
import io.tinyptq.api.quant.QuantParams;
import io.tinyptq.api.quant.QuantizerSpec;
import io.tinyptq.api.spi.ActivationObserver;
import io.tinyptq.api.spi.QuantizerInitializer;

/**
 * MinMax initialization: the clipping range is the tensor's (or channel's) minimum and maximum, turned into
 * scale and zero-point by Eq. 2. Simple, but one outlier stretches the grid for everyone.
 */
public final class MinMaxInitializer implements QuantizerInitializer<NoOptions> {

    @Override
    public String name() {
        return "minmax";
    }

    @Override
    public String description() {
        return "clipping range = observed min and max (Eq. 2)";
    }

    @Override
    public Class<NoOptions> optionsType() {
        return NoOptions.class;
    }

    @Override
    public NoOptions defaultOptions() {
        return NoOptions.INSTANCE;
    }

    @Override
    public QuantParams initWeights(Tensor weight, QuantizerSpec spec, NoOptions options) {
        ChannelView.checkAxis(weight, spec);
        float[][] channels = ChannelView.split(weight, spec);
        float[] s = new float[channels.length];
        float[] z = new float[channels.length];
        for (int c = 0; c < channels.length; c++) {
            float lo = Float.POSITIVE_INFINITY;
            float hi = Float.NEGATIVE_INFINITY;
            for (float v : channels[c]) {
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
            }
            float[] sz = FakeQuant.fromRange(lo, hi, spec);
            s[c] = sz[0];
            z[c] = sz[1];
        }
        return new QuantParams(s, z);
    }

    @Override
    public ActivationObserver newObserver(QuantizerSpec spec, NoOptions options) {
        return new ActivationObserver() {
            private float lo = Float.POSITIVE_INFINITY;
            private float hi = Float.NEGATIVE_INFINITY;

            @Override
            public void observe(float[] values, int offset, int length) {
                for (int i = offset; i < offset + length; i++) {
                    lo = Math.min(lo, values[i]);
                    hi = Math.max(hi, values[i]);
                }
            }

            @Override
            public QuantParams result() {
                if (lo > hi) {
                    throw new IllegalStateException("minmax observer saw no values");
                }
                float[] sz = FakeQuant.fromRange(lo, hi, spec);
                return new QuantParams(new float[] {sz[0]}, new float[] {sz[1]});
            }
        };
    }
}
