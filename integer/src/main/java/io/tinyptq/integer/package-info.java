/**
 * The {@code reference} integer runtime ({@link io.tinyptq.integer.ReferenceIntegerRuntime}): an
 * {@link io.tinyptq.api.integer.IntegerModel} run in integer arithmetic as TFLite's reference kernels compute it.
 *
 * <p>What each op computes, and which TFLite code it follows:
 * <ul>
 *   <li>model input: QUANTIZE's {@code AffineQuantize}, {@code round(x / scale)} in float, ties away from zero,
 *       plus the zero point, clamped to int8; the output and every tensor the listener sees: DEQUANTIZE,
 *       {@code (float) (scale * (q - zeroPoint))};</li>
 *   <li>CONV_2D, DEPTHWISE_CONV_2D (depth multiplier), Conv1D as a one-row CONV_2D, FULLY_CONNECTED:
 *       {@code ConvPerChannel} / {@code DepthwiseConvPerChannel} / int8 {@code FullyConnected}, int32 accumulation
 *       of {@code w * (x - zi)}, int32 bias, per-channel multipliers from
 *       {@code (double) in_scale * (double) w_scale[c] / (double) out_scale} ({@code PopulateConvolutionQuantizationParams},
 *       and {@code GetQuantizedConvolutionMultipler} for a per-tensor fully-connected layer, which computes the same),
 *       {@code MultiplyByQuantizedMultiplier}, output zero point, the fused activation's clamp
 *       ({@code CalculateActivationRangeQuantized}); int4 weights are unpacked values in [-8, 7] and compute like
 *       int8;</li>
 *   <li>ADD: left shift 20, twice the larger input scale, the three multipliers from
 *       {@code QuantizeMultiplierSmallerThanOneExp};</li>
 *   <li>AVERAGE_POOL_2D / MAX_POOL_2D: over the in-bounds part of each window, the average rounded half away from
 *       zero by the count of valid elements; input and output must share their quantization (TFLite's int8 pools
 *       do not rescale);</li>
 *   <li>MEAN over the spatial axes (the IR's {@code Mean} drops them, keep_dims false): TFLite's
 *       {@code EvalQuantizedMean} / {@code reference_ops::QuantizedMeanOrSum} in its integer form (current
 *       TensorFlow; older releases computed this in float, with a special case for equal input and output
 *       quantization): {@code MultiplyByQuantizedMultiplier(sum - n * zi)} by {@code in_scale / out_scale} with
 *       {@code 1/n} folded into the multiplier. The optimized 4-D keep_dims kernel is a different computation;</li>
 *   <li>PAD: the border filled with the output zero point; RESHAPE: the integers unchanged (both require equal
 *       input and output quantization);</li>
 *   <li>RELU / RELU6: {@code QuantizedReluX}, requantized by {@code in_scale / out_scale} and clamped;</li>
 *   <li>SOFTMAX (beta 1, output scale 1/256 and zero point -128 required as TFLite's Prepare requires them):
 *       the reference int8 kernel ({@code reference_ops::Softmax}: {@code PreprocessSoftmaxScaling} with 5
 *       integer bits, {@code diff_min}, gemmlowp's {@code exp_on_negative_values}, a Q12.19 sum, its reciprocal).
 *       With the option {@code softmax: lookup_table}, LiteRT's default builtin kernel on x86 and WebAssembly
 *       instead ({@code PopulateSoftmaxLookupTable} and {@code optimized_ops::Softmax}: a float table of exp,
 *       a float sum and reciprocal, the probability rounded); the two differ by at most one step.</li>
 * </ul>
 *
 * <p>With the option {@code arithmetic: xnnpack} the ops TFLite's XNNPACK delegate takes compute as XNNPACK does
 * (LiteRT's default CPU path; {@link io.tinyptq.integer.XnnpackArithmetic}): CONV_2D, DEPTHWISE_CONV_2D, Conv1D and
 * FULLY_CONNECTED with fp32 requantization (per-channel float scale {@code in_scale * w_scale[c] / out_scale}, the
 * accumulator converted to float, multiplied, clamped, rounded to nearest even, plus the zero point), fused
 * activation bounds quantized by {@code xnn_qs8_quantize}, and ADD with XNNPACK's 20-bit multipliers and a single
 * rounding half up. The rest computes as above: the delegate leaves int8 AVERAGE_POOL_2D and SOFTMAX to TFLite's
 * builtin kernels (pair the option with {@code softmax: lookup_table} for LiteRT's softmax), and RESHAPE, PAD and
 * max pooling move integers unchanged. XNNPACK's own formulas for a standalone RELU and for MEAN are not modelled:
 * those two compute TFLite's reference arithmetic under either option.
 */
package io.tinyptq.integer;
