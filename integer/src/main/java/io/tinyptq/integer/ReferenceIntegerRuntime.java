package io.tinyptq.integer;

import io.tinyptq.api.integer.IntegerModel;
import io.tinyptq.api.options.NoOptions;
import io.tinyptq.api.spi.IntegerRuntime;
import io.tinyptq.api.spi.ModelExecutor;

/**
 * The {@code reference} integer runtime: TFLite's reference integer kernels (int8 activations, int8 or int4
 * weights, int32 biases and accumulators, fixed-point requantization) in plain single-threaded Java loops. It is
 * the oracle the rest of tinyptq's integer path is checked against.
 */
public final class ReferenceIntegerRuntime implements IntegerRuntime<NoOptions> {

    @Override
    public String name() {
        return "reference";
    }

    @Override
    public String description() {
        return "integer interpreter computing exactly as TFLite's reference int8 kernels";
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
    public ModelExecutor compile(IntegerModel model, int maxBatch, NoOptions options) {
        return new IntegerExecutor(model, maxBatch);
    }
}
