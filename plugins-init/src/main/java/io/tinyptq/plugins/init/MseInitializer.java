package io.tinyptq.plugins.init;

import io.tinyptq.api.model.Tensor;
import io.tinyptq.api.options.Option;
import io.tinyptq.api.quant.QuantParams;
import io.tinyptq.api.quant.QuantizerSpec;
import io.tinyptq.api.spi.ActivationObserver;
import io.tinyptq.api.spi.QuantizerInitializer;

/**
 * MSE initialization: per channel (weights) or per tensor (activations), the clipping range minimizing the
 * squared quantization error, found by {@link RangeSearch}. Weights are searched on their exact values.
 * Activations are streamed into a {@link StreamingHistogram} (bounded memory whatever the calibration size,
 * and deterministic, unlike a random reservoir) and searched on its bin centres weighted by counts.
 */
public final class MseInitializer implements QuantizerInitializer<MseInitializer.Options> {

    /**
     * @param candidates  grid points of the range search
     * @param refineSteps golden-section iterations around the best grid point
     * @param bins        histogram bins for activations
     */
    public record Options(
            @Option(description = "candidate clipping ranges on the search grid", min = 100, max = 100000)
            int candidates,

            @Option(description = "golden-section refinement iterations around the best candidate", min = 0, max = 200)
            int refineSteps,

            @Option(description = "histogram bins per activation tensor (even)", min = 128, max = 1 << 20)
            int bins,

            @Option(
                    description =
                            "exponent p of the error |x - q(x)|^p the range minimizes: 2 is the MSE; above 2 clips"
                                    + " less (BRECQ: 2.4 for weights)",
                    min = 1,
                    max = 8)
            double norm) {
        public Options {
            if (bins % 2 != 0) {
                throw new IllegalArgumentException("bins must be even, found " + bins);
            }
        }
    }

    @Override
    public String name() {
        return "mse";
    }

    @Override
    public String description() {
        return "clipping range minimizing ||x - q(x)||^2 (or its p-norm, option norm): grid search then golden-section refinement";
    }

    @Override
    public Class<Options> optionsType() {
        return Options.class;
    }

    @Override
    public Options defaultOptions() {
        return new Options(100, 20, 2048, 2);
    }

    @Override
    public QuantParams initWeights(Tensor weight, QuantizerSpec spec, Options o) {
        ChannelView.checkAxis(weight, spec);
        float[][] channels = ChannelView.split(weight, spec);
        float[] s = new float[channels.length];
        float[] z = new float[channels.length];
        for (int c = 0; c < channels.length; c++) {
            float[] sz = RangeSearch.search(
                    RangeSearch.Sample.of(channels[c]), spec, o.candidates(), o.refineSteps(), o.norm());
            s[c] = sz[0];
            z[c] = sz[1];
        }
        return new QuantParams(s, z);
    }

    @Override
    public ActivationObserver newObserver(QuantizerSpec spec, Options o) {
        StreamingHistogram h = new StreamingHistogram(o.bins());
        return new ActivationObserver() {
            @Override
            public void observe(float[] values, int offset, int length) {
                h.add(values, offset, length);
            }

            @Override
            public QuantParams result() {
                if (h.isEmpty()) {
                    throw new IllegalStateException("mse observer saw no values");
                }
                float[] sz = RangeSearch.search(h.sample(), spec, o.candidates(), o.refineSteps(), o.norm());
                return new QuantParams(new float[] {sz[0]}, new float[] {sz[1]});
            }
        };
    }
}
