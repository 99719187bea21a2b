package io.tinyptq.integer;

import io.tinyptq.api.model.Activation;

/**
 * The int8 arithmetic of XNNPACK, which TFLite's XNNPACK delegate (LiteRT's default CPU path) runs instead of
 * TFLite's gemmlowp fixed point for the ops it takes: convolution, depthwise convolution and fully connected with
 * "fp32" requantization, and ADD ({@code xnn_qs8_vadd_minmax}) with its own 20-bit multipliers.
 *
 * <p><b>fp32 requantization</b> ({@code xnn_qs8_qc8w_gemm_minmax_fp32_ukernel_*}, {@code
 * xnn_qs8_qc8w_dwconv_minmax_fp32_ukernel_*}, {@code xnn_qs8_gemm_minmax_fp32_ukernel_*}). The operators compute
 * one scale per output channel in float, {@code input_scale * kernel_scale[c] / output_scale} ({@code
 * init_requantization_scale_qx8_qc8w} in {@code convolution-nhwc.c}, {@code setup_scale_params_qs8} in {@code
 * fully-connected-nc.c}); the kernels convert the int32 accumulator (bias included) to float, multiply by that
 * scale, clamp to {@code [output_min - zp, output_max - zp]} and round to nearest, ties to even, then add the output
 * zero point. The WebAssembly kernels round with the "magic bias" {@code 1.5 * 2^23}: adding it leaves one unit
 * per ulp, so the float addition itself rounds to nearest even, and the integer clamp on the float's bits equals
 * the clamp before rounding because the bounds are integers; {@code lrintf} (scalar kernels) rounds the same way.
 * Against TFLite's {@code MultiplyByQuantizedMultiplier} this differs in three places: the scale is a float
 * (24-bit mantissa) rather than a 31-bit fixed-point multiplier derived in double; the accumulator is rounded to
 * a float first when it exceeds 2^24 in magnitude; and ties go to even rather than away from zero.
 *
 * <p><b>Fused activations</b> become float bounds ({@code ConvertActivationToOutputRange} in the delegate: RELU
 * [0, +inf], RELU6 [0, 6]), quantized by {@code xnn_qs8_quantize}: {@code lrintf(clamp(value / scale + zp, -128,
 * 127))}, the division and addition in float and ties to even (TFLite's {@code CalculateActivationRangeQuantized}
 * rounds {@code value / scale} ties away from zero and adds the zero point afterwards).
 *
 * <p><b>ADD</b> ({@code xnn_init_qs8_add_minmax_scalar_params}, {@code xnn_qs8_vadd_minmax_ukernel__*}): with
 * {@code a = a_scale / out_scale} and {@code b = b_scale / out_scale} in float, the larger one's binary exponent
 * {@code e} gives {@code shift = 20 - e}; each multiplier is {@code lrintf(scale * 2^shift)} (an exact power-of-two
 * scaling, then ties to even), so the larger one lies in [2^20, 2^21]; {@code bias = 2^(shift-1) - a_mult * a_zp -
 * b_mult * b_zp}; each output is {@code (bias + a_mult * qa + b_mult * qb) >> shift} (arithmetic shift: floor, so
 * with the half added in the bias, ties round up), plus the output zero point, clamped. TFLite's reference ADD
 * instead rescales both inputs by 31-bit multipliers after a left shift of 20 and rounds three times, ties away
 * from zero.
 *
 * <p><b>MEAN</b> over the spatial axes ({@code xnn_create_mean_nd_qs8}, given {@code input_scale / output_scale}):
 * the int8 inputs summed in int32, {@code n * input_zp} subtracted, the difference converted to float and multiplied
 * by that ratio times {@code 1 / n} (a float), clamped and rounded as fp32 requantization, plus the output zero point.
 * TFLite's reference MEAN folds the division into a 31-bit multiplier and rounds twice.
 */
final class XnnpackArithmetic {
    /** The number of bits XNNPACK gives the larger ADD multiplier above its leading one. */
    static final int ADD_MULTIPLIER_BITS = 20;

    private XnnpackArithmetic() {}

    /**
     * The requantization scale of an output channel, {@code input_scale * kernel_scale / output_scale}, evaluated
     * left to right in float as XNNPACK's operators do.
     */
    static float requantizationScale(float inputScale, float kernelScale, float outputScale) {
        return inputScale * kernelScale / outputScale;
    }

    /**
     * fp32 requantization of an int32 accumulator: {@code (float) acc * scale} in float, clamped to {@code [lo -
     * zp, hi - zp]}, rounded to nearest with ties to even, plus {@code zp}.
     */
    static int requantize(int acc, float scale, int zeroPoint, int lo, int hi) {
        float x = (float) acc * scale;
        x = Math.min(Math.max(x, (float) (lo - zeroPoint)), (float) (hi - zeroPoint));
        return (int) Math.rint(x) + zeroPoint;
    }

    /** The float scale of XNNPACK's int8 MEAN of {@code n} values: {@code (in / out) * (1 / n)}, in float. */
    static float meanScale(float inputScale, float outputScale, int n) {
        return inputScale / outputScale * (float) (1.0 / n);
    }

    /**
     * XNNPACK's int8 MEAN over the leading axes of a {@code [spatial, c]} tensor: per channel, {@link #requantize} of
     * the sum less {@code spatial * zi} by {@code scale}.
     */
    static void mean(int[] in, int spatial, int c, int zi, float scale, int zo, int lo, int hi, int[] sum, int[] out) {
        IntegerKernels.channelSums(in, spatial, c, sum);
        for (int ch = 0; ch < c; ch++) {
            out[ch] = requantize(sum[ch] - zi * spatial, scale, zo, lo, hi);
        }
    }

    /**
     * {@code xnn_qs8_quantize}: a float bound on the output grid, {@code lrintf(min(max(value / scale + zp, -128),
     * 127))} with the division and the addition in float.
     */
    static int quantizeBound(float value, float scale, int zeroPoint) {
        float x = value / scale + (float) zeroPoint;
        x = Math.min(Math.max(x, -128f), 127f);
        return (int) Math.rint(x);
    }

    /**
     * The int8 clamp of a fused activation: the delegate's float range (NONE unbounded, RELU [0, +inf], RELU6
     * [0, 6]) quantized by {@link #quantizeBound}.
     */
    static int[] activationRange(Activation activation, float scale, int zeroPoint) {
        float min = activation == Activation.NONE ? Float.NEGATIVE_INFINITY : 0f;
        float max = activation == Activation.RELU6 ? 6f : Float.POSITIVE_INFINITY;
        return new int[] {quantizeBound(min, scale, zeroPoint), quantizeBound(max, scale, zeroPoint)};
    }

    /** The parameters of XNNPACK's int8 ADD ({@code xnn_init_qs8_add_minmax_scalar_params}). */
    record AddParams(int aMultiplier, int bMultiplier, int bias, int shift, int outputZeroPoint, int lo, int hi) {

        /**
         * Derives them from the two input quantizations and the output's: float ratios to the output scale, the
         * shift from the larger ratio's exponent, multipliers rounded ties to even, the rounding half and both
         * zero-point products folded into the bias.
         */
        static AddParams of(
                float aScale,
                int aZeroPoint,
                float bScale,
                int bZeroPoint,
                float outScale,
                int outZeroPoint,
                int lo,
                int hi) {
            float a = aScale / outScale;
            float b = bScale / outScale;
            float larger = Math.max(Math.abs(a), Math.abs(b));
            if (!(larger >= 0x1.0p-10f && larger < 0x1.0p+8f)) {
                throw new IllegalArgumentException("XNNPACK's int8 ADD needs input-to-output scale ratios in"
                        + " [2^-10, 2^8), the larger one is " + larger);
            }
            int shift = ADD_MULTIPLIER_BITS - Math.getExponent(larger);
            int aMultiplier = (int) Math.rint(Math.scalb(a, shift));
            int bMultiplier = (int) Math.rint(Math.scalb(b, shift));
            int bias = (1 << (shift - 1)) - aMultiplier * aZeroPoint - bMultiplier * bZeroPoint;
            return new AddParams(aMultiplier, bMultiplier, bias, shift, outZeroPoint, lo, hi);
        }
    }

    /** {@code xnn_qs8_vadd_minmax_ukernel}: element-wise {@code clamp(zp + (bias + ma * a + mb * b) >> shift)}. */
    static void add(int[] a, int[] b, int n, AddParams p, int[] out) {
        for (int i = 0; i < n; i++) {
            int acc = p.bias() + p.aMultiplier() * a[i] + p.bMultiplier() * b[i];
            int v = (acc >> p.shift()) + p.outputZeroPoint();
            out[i] = Math.min(Math.max(v, p.lo()), p.hi());
        }
    }
}
