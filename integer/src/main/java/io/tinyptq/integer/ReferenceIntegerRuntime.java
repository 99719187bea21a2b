package io.tinyptq.integer;

import io.tinyptq.api.integer.IntegerModel;
import io.tinyptq.api.options.Option;
import io.tinyptq.api.spi.IntegerRuntime;
import io.tinyptq.api.spi.ModelExecutor;

/**
 * The {@code reference} integer runtime: TFLite's reference integer kernels (int8 activations, int8 or int4
 * weights, int32 biases and accumulators, fixed-point requantization) in plain single-threaded Java loops. It is
 * the oracle the rest of tinyptq's integer path is checked against. With {@code arithmetic: xnnpack} it computes as
 * TFLite with its XNNPACK delegate (LiteRT on a CPU) instead.
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

    /** Whose integer arithmetic the convolutions, fully-connected layers and ADD compute. */
    public enum Arithmetic {
        /**
         * TFLite's reference kernels: gemmlowp fixed-point requantization ({@code MultiplyByQuantizedMultiplier}),
         * as TFLite Micro computes on a microcontroller.
         */
        TFLITE_REFERENCE,
        /**
         * TFLite's reference kernels built with {@code TFLITE_SINGLE_ROUNDING} (and CMSIS-NN with {@code
         * CMSIS_NN_USE_SINGLE_ROUNDING}): every fixed-point requantization rounds once ({@link
         * io.tinyptq.api.integer.FixedPoint#multiplyByQuantizedMultiplierSingleRounding}). What the float simulation
         * computes, up to float32 near-ties, and what {@code export --format c} generates by default.
         */
        TFLITE_SINGLE_ROUNDING,
        /**
         * TFLite with its XNNPACK delegate (LiteRT's default CPU path): fp32 requantization of convolutions,
         * depthwise convolutions and fully-connected layers, XNNPACK's own int8 ADD ({@link XnnpackArithmetic}).
         * The ops the delegate leaves to TFLite's builtin kernels (int8 AVERAGE_POOL_2D and SOFTMAX among them)
         * compute as before; pair it with {@code softmax: lookup_table} for LiteRT's softmax.
         */
        XNNPACK
    }

    /**
     * @param softmax the int8 softmax kernel
     * @param arithmetic whose arithmetic the convolutions, fully-connected layers and ADD compute
     */
    public record Options(
            @Option(
                    description = "int8 softmax: reference (fixed point, as TFLite Micro) or lookup_table (float"
                            + " table, as LiteRT's default kernel)")
            SoftmaxKernel softmax,

            @Option(
                    description = "conv, depthwise, fully connected, add and mean: tflite_reference (gemmlowp fixed"
                            + " point rounding twice, as TFLite Micro), tflite_single_rounding (rounding once, as TFLite built"
                            + " with TFLITE_SINGLE_ROUNDING; tinyptq's C runtime by default) or xnnpack (fp32 requantization,"
                            + " as LiteRT's XNNPACK delegate)")
            Arithmetic arithmetic) {}

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
        return new Options(SoftmaxKernel.REFERENCE, Arithmetic.TFLITE_REFERENCE);
    }

    @Override
    public ModelExecutor compile(IntegerModel model, int maxBatch, Options options) {
        return new IntegerExecutor(
                model, maxBatch, options.softmax() == SoftmaxKernel.LOOKUP_TABLE, options.arithmetic());
    }
}
