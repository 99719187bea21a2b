package io.tinyptq.api.integer;

import io.tinyptq.api.model.Activation;
import io.tinyptq.api.model.Op;
import io.tinyptq.api.model.Shape;

/**
 * The fixed-point parameters TFLite's int8 kernels derive from the tensors' scales in their Prepare functions, for
 * everything that computes TFLite's reference arithmetic: the integer interpreter and generated code.
 */
public final class KernelParams {
    private KernelParams() {}

    /**
     * Per-channel multipliers as TFLite's {@code PopulateConvolutionQuantizationParams} derives them (and, per
     * tensor, {@code GetQuantizedConvolutionMultipler}): {@code (double) in_scale * (double) w_scale[c] / (double)
     * out_scale}, then {@code QuantizeMultiplier}; a per-tensor weight scale serves every channel.
     */
    public static void convolution(float inScale, TensorQuant weights, float outScale, int[] multiplier, int[] shift) {
        for (int c = 0; c < multiplier.length; c++) {
            double effective =
                    (double) inScale * (double) weights.scale(weights.perChannel() ? c : 0) / (double) outScale;
            FixedPoint.Multiplier m = FixedPoint.quantizeMultiplier(effective);
            multiplier[c] = m.multiplier();
            shift[c] = m.shift();
        }
    }

    /** Parameters of TFLite's int8 ADD, as its Prepare derives them. */
    public record Add(
            int leftShift,
            int in1Offset,
            int in1Multiplier,
            int in1Shift,
            int in2Offset,
            int in2Multiplier,
            int in2Shift,
            int outOffset,
            int outMultiplier,
            int outShift,
            int lo,
            int hi) {

        /**
         * Both inputs rescaled to twice the larger input scale after a left shift of 20, their sum to the output
         * scale; {@code [lo, hi]} is the output clamp (fused activation and range).
         */
        public static Add of(TensorQuant a, TensorQuant b, TensorQuant out, int lo, int hi) {
            int leftShift = 20;
            double twiceMaxInputScale = 2 * Math.max(a.scale(0), b.scale(0));
            double real1 = a.scale(0) / twiceMaxInputScale;
            double real2 = b.scale(0) / twiceMaxInputScale;
            double realOut = twiceMaxInputScale / ((double) ((1 << leftShift) * out.scale(0)));
            FixedPoint.Multiplier m1 = FixedPoint.quantizeMultiplierSmallerThanOneExp(real1);
            FixedPoint.Multiplier m2 = FixedPoint.quantizeMultiplierSmallerThanOneExp(real2);
            FixedPoint.Multiplier mo = FixedPoint.quantizeMultiplierSmallerThanOneExp(realOut);
            return new Add(
                    leftShift,
                    -a.zeroPoint(0),
                    m1.multiplier(),
                    m1.shift(),
                    -b.zeroPoint(0),
                    m2.multiplier(),
                    m2.shift(),
                    out.zeroPoint(0),
                    mo.multiplier(),
                    mo.shift(),
                    lo,
                    hi);
        }
    }

    /**
     * Parameters of TFLite's int8 RELU / RELU6 ({@code QuantizedReluX}): requantize by {@code in_scale / out_scale},
     * then clamp to the activation's range on the output grid.
     */
    public record ReluX(int inputZero, int multiplier, int shift, int outputZero, int lo, int hi) {
        public static ReluX of(Activation act, TensorQuant in, TensorQuant out) {
            FixedPoint.Multiplier m = FixedPoint.quantizeMultiplier((double) in.scale(0) / (double) out.scale(0));
            int[] r = FixedPoint.activationRange(act, out.scale(0), out.zeroPoint(0), out.qmin(), out.qmax());
            return new ReluX(in.zeroPoint(0), m.multiplier(), m.shift(), out.zeroPoint(0), r[0], r[1]);
        }
    }

    /** Parameters of TFLite's int8 softmax, as its Prepare derives them. */
    public record Softmax(int inputMultiplier, int inputLeftShift, int diffMin) {
        public static final int SCALED_DIFF_INTEGER_BITS = 5;
        public static final int ACCUMULATION_INTEGER_BITS = 12;

        public static Softmax of(double beta, float inputScale) {
            FixedPoint.Multiplier m = FixedPoint.preprocessSoftmaxScaling(beta, inputScale, SCALED_DIFF_INTEGER_BITS);
            int diffMin = (int) (-1.0 * FixedPoint.calculateInputRadius(SCALED_DIFF_INTEGER_BITS, m.shift()));
            return new Softmax(m.multiplier(), m.shift(), diffMin);
        }
    }

    /**
     * The fixed-point multiplier of TFLite's int8 MEAN ({@code reference_ops::QuantizedMeanOrSum}, which
     * {@code EvalQuantizedMean} runs for every int8 MEAN but the 4-D keep_dims one): {@code QuantizeMultiplier(
     * in_scale / out_scale)} with {@code 1/n} folded in, {@code s = min(floor(log2 n), 32, 31 + shift)},
     * {@code multiplier' = (multiplier << s) / n} (64-bit, truncating), {@code shift' = shift - s}.
     */
    public static FixedPoint.Multiplier mean(float inScale, float outScale, int n) {
        FixedPoint.Multiplier m = FixedPoint.quantizeMultiplier((double) inScale / (double) outScale);
        int s = 63 - Long.numberOfLeadingZeros(n);
        s = Math.min(s, 32);
        s = Math.min(s, 31 + m.shift());
        int multiplier = (int) (((long) m.multiplier() << s) / n);
        return new FixedPoint.Multiplier(multiplier, m.shift() - s);
    }

    /**
     * A pool's window over a per-sample {@code [H,W,C]} input, or {@code [W,C]} read as height 1: TFLite's in-bounds
     * windows, padding before as the op's {@link io.tinyptq.api.model.Padding} places it.
     */
    public record Pool(
            int h,
            int w,
            int c,
            int kh,
            int kw,
            int strideH,
            int strideW,
            int padTop,
            int padLeft,
            int outH,
            int outW) {
        public static Pool of(Op.Pool p, Shape in, Shape out) {
            boolean twoD = in.rank() == 3;
            int h = twoD ? in.dim(0) : 1;
            int w = twoD ? in.dim(1) : in.dim(0);
            int kh = twoD ? p.kh() : 1;
            int sh = twoD ? p.strideH() : 1;
            return new Pool(
                    h,
                    w,
                    in.dim(-1),
                    kh,
                    p.kw(),
                    sh,
                    p.strideW(),
                    twoD ? p.padding().before(h, kh, sh, true) : 0,
                    p.padding().before(w, p.kw(), p.strideW(), false),
                    twoD ? out.dim(0) : 1,
                    twoD ? out.dim(1) : out.dim(0));
        }
    }
}
