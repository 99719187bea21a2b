package io.tinyptq.integer;

import io.tinyptq.api.integer.FixedPoint;
import io.tinyptq.api.integer.KernelParams;
import java.util.Arrays;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The integer kernels, one sample at a time over flat channels-last {@code int[]} tensors, each computing what
 * the TFLite reference kernel of the same name computes (tensorflow/lite/kernels/internal/reference/integer_ops and
 * reference_ops). Convolutions read a copy of their input with the zero point subtracted and the padding filled
 * with zeros: TFLite skips the taps outside the image, which contribute exactly the same zero.
 */
final class IntegerKernels {
    private static final VectorSpecies<Integer> SPECIES = IntVector.SPECIES_PREFERRED;
    private static final int LANES = SPECIES.length();

    private IntegerKernels() {}

    /** Requantizes an int32 accumulator: fixed-point multiply, output zero point, clamp to [lo, hi]. */
    static int requantize(
            FixedPoint.Rounding rounding, int acc, int multiplier, int shift, int zeroPoint, int lo, int hi) {
        int v = rounding.multiply(acc, multiplier, shift) + zeroPoint;
        return Math.min(Math.max(v, lo), hi);
    }

    /**
     * How a layer's int32 accumulators become int8 outputs, per output channel: TFLite's fixed point ({@code
     * multiplier}, {@code shift}, {@code rounding}; {@link #requantize}) or, where {@code scale} is set, XNNPACK's fp32
     * requantization ({@link XnnpackArithmetic#requantize}); then the output zero point and the clamp [lo, hi].
     */
    record Requantization(
            int[] multiplier, int[] shift, FixedPoint.Rounding rounding, float[] scale, int zeroPoint, int lo, int hi) {
        int apply(int acc, int channel) {
            return scale != null
                    ? XnnpackArithmetic.requantize(acc, scale[channel], zeroPoint, lo, hi)
                    : requantize(rounding, acc, multiplier[channel], shift[channel], zeroPoint, lo, hi);
        }
    }

    /**
     * Copies {@code in} ({@code [h,w,c]}) into {@code padded} ({@code [ph,pw,c]}) at offset ({@code top},
     * {@code left}) with {@code zeroPoint} subtracted; everything else in {@code padded} becomes 0. Input rows or
     * columns beyond the padded extent (never read by a VALID window) are dropped.
     */
    static void padSubtract(
            int[] in, int h, int w, int c, int zeroPoint, int[] padded, int ph, int pw, int top, int left) {
        Arrays.fill(padded, 0, ph * pw * c, 0);
        for (int y = 0; y < h; y++) {
            int py = y + top;
            if (py >= ph) {
                break;
            }
            int cols = Math.min(w, pw - left);
            int src = y * w * c;
            int dst = (py * pw + left) * c;
            for (int i = 0; i < cols * c; i++) {
                padded[dst + i] = in[src + i] - zeroPoint;
            }
        }
    }

    /**
     * TFLite's {@code ConvPerChannel}: {@code out[oy,ox,oc] = clamp(zo + M_oc(b[oc] + sum w[oc,ky,kx,ic] *
     * (in - zi)))} over {@code padded} (see {@link #padSubtract}), weights OHWI.
     */
    static void conv2d(
            int[] padded,
            int pw,
            int cin,
            int[] w,
            int[] bias,
            int kh,
            int kw,
            int sh,
            int sw,
            int oh,
            int ow,
            int cout,
            Requantization rq,
            int[] out) {
        int rowLen = kw * cin;
        int filter = kh * rowLen;
        int vectorLen = SPECIES.loopBound(rowLen);
        int o = 0;
        for (int oy = 0; oy < oh; oy++) {
            for (int ox = 0; ox < ow; ox++) {
                int base = (oy * sh * pw + ox * sw) * cin;
                int oc = 0;
                // four output channels at a time share each input load
                for (; oc + 3 < cout; oc += 4) {
                    int a0 = 0;
                    int a1 = 0;
                    int a2 = 0;
                    int a3 = 0;
                    int w0 = oc * filter;
                    IntVector v0 = IntVector.zero(SPECIES);
                    IntVector v1 = v0;
                    IntVector v2 = v0;
                    IntVector v3 = v0;
                    for (int ky = 0; ky < kh; ky++) {
                        int p = base + ky * pw * cin;
                        int q = w0 + ky * rowLen;
                        int i = 0;
                        // int32 sums wrap exactly as the C++ does, so the order of the additions does not matter
                        for (; i < vectorLen; i += LANES) {
                            IntVector x = IntVector.fromArray(SPECIES, padded, p + i);
                            v0 = v0.add(x.mul(IntVector.fromArray(SPECIES, w, q + i)));
                            v1 = v1.add(x.mul(IntVector.fromArray(SPECIES, w, q + filter + i)));
                            v2 = v2.add(x.mul(IntVector.fromArray(SPECIES, w, q + 2 * filter + i)));
                            v3 = v3.add(x.mul(IntVector.fromArray(SPECIES, w, q + 3 * filter + i)));
                        }
                        for (; i < rowLen; i++) {
                            int x = padded[p + i];
                            a0 += x * w[q + i];
                            a1 += x * w[q + filter + i];
                            a2 += x * w[q + 2 * filter + i];
                            a3 += x * w[q + 3 * filter + i];
                        }
                    }
                    a0 += v0.reduceLanes(VectorOperators.ADD);
                    a1 += v1.reduceLanes(VectorOperators.ADD);
                    a2 += v2.reduceLanes(VectorOperators.ADD);
                    a3 += v3.reduceLanes(VectorOperators.ADD);
                    if (bias != null) {
                        a0 += bias[oc];
                        a1 += bias[oc + 1];
                        a2 += bias[oc + 2];
                        a3 += bias[oc + 3];
                    }
                    out[o++] = rq.apply(a0, oc);
                    out[o++] = rq.apply(a1, oc + 1);
                    out[o++] = rq.apply(a2, oc + 2);
                    out[o++] = rq.apply(a3, oc + 3);
                }
                for (; oc < cout; oc++) {
                    int acc = bias == null ? 0 : bias[oc];
                    int wo = oc * filter;
                    for (int ky = 0; ky < kh; ky++) {
                        int p = base + ky * pw * cin;
                        int q = wo + ky * rowLen;
                        for (int i = 0; i < rowLen; i++) {
                            acc += padded[p + i] * w[q + i];
                        }
                    }
                    out[o++] = rq.apply(acc, oc);
                }
            }
        }
    }

    /**
     * TFLite's {@code DepthwiseConvPerChannel}: output channel {@code c*m+j} reads input channel {@code c};
     * weights {@code [kh,kw,cin*m]}.
     */
    static void depthwise(
            int[] padded,
            int pw,
            int cin,
            int m,
            int[] w,
            int[] bias,
            int kh,
            int kw,
            int sh,
            int sw,
            int oh,
            int ow,
            Requantization rq,
            int[] acc,
            int[] out) {
        int cout = cin * m;
        int o = 0;
        for (int oy = 0; oy < oh; oy++) {
            for (int ox = 0; ox < ow; ox++) {
                if (bias == null) {
                    Arrays.fill(acc, 0, cout, 0);
                } else {
                    System.arraycopy(bias, 0, acc, 0, cout);
                }
                for (int ky = 0; ky < kh; ky++) {
                    for (int kx = 0; kx < kw; kx++) {
                        int p = ((oy * sh + ky) * pw + ox * sw + kx) * cin;
                        int q = (ky * kw + kx) * cout;
                        if (m == 1) {
                            for (int c = 0; c < cin; c++) {
                                acc[c] += padded[p + c] * w[q + c];
                            }
                        } else {
                            for (int c = 0; c < cin; c++) {
                                int x = padded[p + c];
                                for (int j = 0; j < m; j++) {
                                    acc[c * m + j] += x * w[q + c * m + j];
                                }
                            }
                        }
                    }
                }
                for (int oc = 0; oc < cout; oc++) {
                    out[o++] = rq.apply(acc[oc], oc);
                }
            }
        }
    }

    /**
     * TFLite's int8 {@code FullyConnected}: {@code out[o] = clamp(zo + M_o(b[o] + sum (w[o,i] - zw) * (in[i] -
     * zi)))}; {@code w} already holds {@code w - zw}.
     */
    static void fullyConnected(
            int[] in, int n, int zi, int[] x, int[] w, int[] bias, int outs, Requantization rq, int[] out) {
        for (int i = 0; i < n; i++) {
            x[i] = in[i] - zi;
        }
        for (int o = 0; o < outs; o++) {
            int acc = bias == null ? 0 : bias[o];
            int q = o * n;
            for (int i = 0; i < n; i++) {
                acc += x[i] * w[q + i];
            }
            out[o] = rq.apply(acc, o);
        }
    }

    /** TFLite's int8 {@code AddElementwise}. */
    static void add(FixedPoint.Rounding rounding, int[] a, int[] b, int n, KernelParams.Add p, int[] out) {
        for (int i = 0; i < n; i++) {
            int x1 = (p.in1Offset() + a[i]) * (1 << p.leftShift());
            int x2 = (p.in2Offset() + b[i]) * (1 << p.leftShift());
            int s1 = rounding.multiplySmallerThanOneExp(x1, p.in1Multiplier(), p.in1Shift());
            int s2 = rounding.multiplySmallerThanOneExp(x2, p.in2Multiplier(), p.in2Shift());
            int raw = rounding.multiplySmallerThanOneExp(s1 + s2, p.outMultiplier(), p.outShift()) + p.outOffset();
            out[i] = Math.min(Math.max(raw, p.lo()), p.hi());
        }
    }

    /**
     * TFLite's int8 average or max pool over the in-bounds part of each window; the average of {@code n} values
     * summing to {@code s} is {@code (s + n/2) / n} for a positive sum and {@code (s - n/2) / n} otherwise (C
     * division, truncating), i.e. rounded to nearest with ties away from zero.
     */
    static void pool(
            boolean average,
            int[] in,
            int h,
            int w,
            int c,
            int kh,
            int kw,
            int sh,
            int sw,
            int padT,
            int padL,
            int oh,
            int ow,
            int lo,
            int hi,
            int[] out) {
        int o = 0;
        for (int oy = 0; oy < oh; oy++) {
            int iy0 = oy * sh - padT;
            int fy0 = Math.max(0, -iy0);
            int fy1 = Math.min(kh, h - iy0);
            for (int ox = 0; ox < ow; ox++) {
                int ix0 = ox * sw - padL;
                int fx0 = Math.max(0, -ix0);
                int fx1 = Math.min(kw, w - ix0);
                for (int ch = 0; ch < c; ch++) {
                    int acc = average ? 0 : Integer.MIN_VALUE;
                    int count = 0;
                    for (int fy = fy0; fy < fy1; fy++) {
                        for (int fx = fx0; fx < fx1; fx++) {
                            int v = in[((iy0 + fy) * w + ix0 + fx) * c + ch];
                            acc = average ? acc + v : Math.max(acc, v);
                            count++;
                        }
                    }
                    if (count == 0) {
                        throw new IllegalStateException("pooling window without any input element");
                    }
                    if (average) {
                        acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
                    }
                    out[o++] = Math.min(Math.max(acc, lo), hi);
                }
            }
        }
    }

    /**
     * TFLite's int8 MEAN over all axes but the last: the stored integers summed in int32, {@code n * zi}
     * subtracted, {@code MultiplyByQuantizedMultiplier} by {@link KernelParams#mean}, the output zero point added,
     * clamped to the type.
     */
    static void mean(
            FixedPoint.Rounding rounding,
            int[] in,
            int spatial,
            int c,
            int zi,
            FixedPoint.Multiplier m,
            int zo,
            int qmin,
            int qmax,
            int[] sum,
            int[] out) {
        channelSums(in, spatial, c, sum);
        for (int ch = 0; ch < c; ch++) {
            int shifted = sum[ch] - zi * spatial;
            int v = rounding.multiply(shifted, m.multiplier(), m.shift()) + zo;
            out[ch] = Math.min(Math.max(v, qmin), qmax);
        }
    }

    /** The int32 sum of each channel of a {@code [spatial, c]} tensor, into {@code sum[0..c)}. */
    static void channelSums(int[] in, int spatial, int c, int[] sum) {
        Arrays.fill(sum, 0, c, 0);
        for (int s = 0; s < spatial; s++) {
            int base = s * c;
            for (int ch = 0; ch < c; ch++) {
                sum[ch] += in[base + ch];
            }
        }
    }

    /** TFLite's quantized {@code ReluX}: requantize from the input to the output grid, then clamp. */
    static void reluX(
            FixedPoint.Rounding rounding,
            int[] in,
            int n,
            int zi,
            int multiplier,
            int shift,
            int zo,
            int lo,
            int hi,
            int[] out) {
        for (int i = 0; i < n; i++) {
            int v = zo + rounding.multiply(in[i] - zi, multiplier, shift);
            out[i] = Math.min(Math.max(v, lo), hi);
        }
    }

    /** TFLite's PAD of a quantized tensor: the stored integers copied, the border filled with the zero point. */
    static void pad(int[] in, int[] inDims, int[] before, int[] outDims, int fill, int[] out, int[] coord) {
        int rank = inDims.length;
        int outSize = 1;
        for (int d : outDims) {
            outSize *= d;
        }
        Arrays.fill(out, 0, outSize, fill);
        int inner = inDims[rank - 1];
        int rows = 1;
        for (int i = 0; i < rank - 1; i++) {
            rows *= inDims[i];
        }
        Arrays.fill(coord, 0);
        for (int r = 0; r < rows; r++) {
            int dst = 0;
            for (int i = 0; i < rank - 1; i++) {
                dst = dst * outDims[i] + coord[i] + before[i];
            }
            dst = dst * outDims[rank - 1] + before[rank - 1];
            System.arraycopy(in, r * inner, out, dst, inner);
            for (int i = rank - 2; i >= 0; i--) {
                if (++coord[i] < inDims[i]) {
                    break;
                }
                coord[i] = 0;
            }
        }
    }

    /**
     * TFLite's {@code PopulateSoftmaxLookupTable}: {@code table[255 - v] = expf(-inputScale * beta * v)} for
     * {@code v} in [0, 255], in float.
     */
    static float[] softmaxTable(float inputScale, float beta) {
        float scale = -inputScale * beta;
        float[] table = new float[256];
        for (int v = 0; v <= 255; v++) {
            table[255 - v] = (float) Math.exp(scale * v);
        }
        return table;
    }

    /**
     * TFLite's optimized int8 {@code Softmax} over a lookup table: each row's {@code exp(x - max)} read from the
     * table, summed in float in order, {@code 1 / (sum * outScale)} in float, each probability rounded (ties away
     * from zero) plus the output zero point, clamped to int8.
     */
    static void softmaxLookup(int[] in, int rows, int depth, float[] table, float outScale, int zo, int[] out) {
        for (int r = 0; r < rows; r++) {
            int base = r * depth;
            int max = Integer.MIN_VALUE;
            for (int c = 0; c < depth; c++) {
                max = Math.max(max, in[base + c]);
            }
            int offset = 255 - max;
            float sum = 0f;
            for (int c = 0; c < depth; c++) {
                sum += table[offset + in[base + c]];
            }
            float inv = 1.0f / (sum * outScale);
            for (int c = 0; c < depth; c++) {
                float prob = table[offset + in[base + c]] * inv;
                int q = (int) FixedPoint.round(prob) + zo;
                out[base + c] = Math.min(Math.max(q, -128), 127);
            }
        }
    }

    /**
     * TFLite's reference int8 softmax over rows of {@code depth}: each difference to the row maximum, rescaled to
     * Q5.26, goes through gemmlowp's fixed-point exp; the exps are summed in Q12.19; the reciprocal of the sum
     * scales each exp to the output grid (scale 1/256, zero point -128). Differences below {@code diffMin} give
     * -128.
     */
    static void softmax(
            FixedPoint.Rounding rounding, int[] in, int rows, int depth, KernelParams.Softmax p, int[] out) {
        int[] bitsOverUnit = new int[1];
        for (int r = 0; r < rows; r++) {
            int base = r * depth;
            int max = Integer.MIN_VALUE;
            for (int c = 0; c < depth; c++) {
                max = Math.max(max, in[base + c]);
            }
            int sumOfExps = 0; // Q12.19
            for (int c = 0; c < depth; c++) {
                int diff = in[base + c] - max;
                if (diff >= p.diffMin()) {
                    int scaled = rounding.multiplyGreaterThanOne(diff, p.inputMultiplier(), p.inputLeftShift());
                    int exp = FixedPoint.expOnNegativeValues(scaled, KernelParams.Softmax.SCALED_DIFF_INTEGER_BITS);
                    sumOfExps += FixedPoint.rescale(exp, 0, KernelParams.Softmax.ACCUMULATION_INTEGER_BITS);
                }
            }
            int shiftedScale =
                    FixedPoint.reciprocal(sumOfExps, KernelParams.Softmax.ACCUMULATION_INTEGER_BITS, bitsOverUnit);
            for (int c = 0; c < depth; c++) {
                int diff = in[base + c] - max;
                if (diff >= p.diffMin()) {
                    int scaled = rounding.multiplyGreaterThanOne(diff, p.inputMultiplier(), p.inputLeftShift());
                    int exp = FixedPoint.expOnNegativeValues(scaled, KernelParams.Softmax.SCALED_DIFF_INTEGER_BITS);
                    int unsat = FixedPoint.roundingDivideByPOT(
                            FixedPoint.saturatingRoundingDoublingHighMul(shiftedScale, exp), bitsOverUnit[0] + 31 - 8);
                    out[base + c] = Math.min(Math.max(unsat - 128, -128), 127);
                } else {
                    out[base + c] = -128;
                }
            }
        }
    }
}
