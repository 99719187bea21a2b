package io.tinyptq.cli;

import io.tinyptq.api.integer.IntegerModel;
import io.tinyptq.api.integer.TensorQuant;
import io.tinyptq.api.spi.IntegerRuntime;
import io.tinyptq.api.spi.ModelExecutor;

/**
 * A stand-in integer runtime for the command-line tests: it quantizes each sample with the model input's integer
 * quantization and returns, dequantized, its first as many values as the model has outputs. It remembers the last
 * model it compiled.
 */
public final class FakeIntegerRuntime implements IntegerRuntime<FakeIntegerRuntime.Options> {
    public record Options() {}

    static volatile IntegerModel last;

    @Override
    public String name() {
        return "fake-integer";
    }

    @Override
    public Class<Options> optionsType() {
        return Options.class;
    }

    @Override
    public Options defaultOptions() {
        return new Options();
    }

    @Override
    public ModelExecutor compile(IntegerModel model, int maxBatch, Options options) {
        last = model;
        String input = model.graph().inputs().keySet().iterator().next();
        TensorQuant q = model.integerQuant(input);
        int sample = model.graph().shape(input).size();
        int classes = model.graph().shape(model.graph().outputs().getFirst()).size();
        return new ModelExecutor() {
            public int maxBatch() {
                return maxBatch;
            }

            public float[] forward(float[] in, int batch, ActivationListener listener) {
                float[] out = new float[batch * classes];
                for (int j = 0; j < batch; j++) {
                    for (int k = 0; k < classes; k++) {
                        long v = Math.round(in[j * sample + k] / q.scale(0)) + q.zeroPoint(0);
                        v = Math.max(-128, Math.min(127, v));
                        out[j * classes + k] = q.scale(0) * (v - q.zeroPoint(0));
                    }
                }
                return out;
            }

            public void close() {}
        };
    }
}
