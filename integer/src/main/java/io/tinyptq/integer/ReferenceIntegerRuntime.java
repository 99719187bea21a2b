package io.tinyptq.integer;

import io.tinyptq.api.integer.IntegerModel;
import io.tinyptq.api.options.Option;
import io.tinyptq.api.spi.IntegerRuntime;
import io.tinyptq.api.spi.ModelExecutor;

/**
 * The {@code reference} integer runtime: TFLite's reference integer kernels (int8 activations, int8 or int4
 * weights, int32 biases and accumulators, fixed-point requantization) in plain single-threaded Java loops. It is
 * the oracle the rest of tinyptq's integer path is checked against.
 */
public final class ReferenceIntegerRuntime implements IntegerRuntime<ReferenceIntegerRuntime.Options> {

    /** Which of TFLite's int8 softmax kernels to compute. */
    public enum SoftmaxKernel {
        /** {@code reference_ops::Softmax}: gemmlowp fixed point (TFLite Micro and the reference resolver). */
        REFERENCE,
        /**
         * {@code optimized_ops::Softmax} with {@code PopulateSoftmaxLookupTable}: a float table of exp, float sum
         * and reciprocal (LiteRT's default builtin kernel on x86 and WebAssembly).
         */
        LOOKUP_TABLE
    }

    /** @param softmax the int8 softmax kernel */
    public record Options(
            @Option(description = "int8 softmax: reference (fixed point, as TFLite Micro) or lookup_table (float"
                    + " table, as LiteRT's default kernel)") SoftmaxKernel softmax) {
    }

    @Override
    public String name() {
        return "reference";
    }

    @Override
    public String description() {
        return "integer interpreter computing exactly as TFLite's reference int8 kernels";
    }

    @Override
    public Class<Options> optionsType() {
        return Options.class;
    }

    @Override
    public Options defaultOptions() {
        return new Options(SoftmaxKernel.REFERENCE);
    }

    @Override
    public ModelExecutor compile(IntegerModel model, int maxBatch, Options options) {
        return new IntegerExecutor(model, maxBatch, options.softmax() == SoftmaxKernel.LOOKUP_TABLE);
    }
}
