package io.tinyptq.backend.kernels;

/**
 * One reconstruction step of a layer unit (2-D, depthwise or 1-D convolution, or dense) as data-parallel kernels over
 * flat arrays, for the rounding (AdaRound, Nagel et al. 2020: {@link #MODE_ROUNDING}) or the weights and biases
 * (AdaQuant, Hubara et al. 2020: {@link #MODE_WEIGHTS}):
 * <ol>
 *   <li>{@link #gatherInputAt}: the mini-batch's unit inputs, fake-quantized by the unit's input quantizer (Eq. 1);</li>
 *   <li>{@link #quantizeWeightAt}: the weights the forward uses, soft-rounded
 *       {@code W~ = s (clamp(floor(W/s) + z + h(V), n, p) - z)} or fake-quantized {@code q(W)} (Eq. 1);</li>
 *   <li>{@link #forwardLossAt}: the convolution, its activation, the squared error against the target and the
 *       error's gradient {@code dL/dacc = 2 (y - t) / N * act'(acc)} (mean squared error over the N outputs);</li>
 *   <li>{@link #weightGradAt}: the weight gradient, one partial sum per sample of the batch (so the index space is
 *       large enough to fill a GPU, and no thread reduces across samples);</li>
 *   <li>{@link #updateAt}: the samples' partial sums added, the gradient taken through the soft rounding to V with
 *       the rounding regularizer's gradient (or through the fake quantization to W), and an Adam step;</li>
 *   <li>{@link #biasUpdateAt}: in {@link #MODE_WEIGHTS}, the bias gradient and its Adam step;</li>
 * </ol>
 * plus {@link #lossAt}, partial sums of the squared error accumulated across steps so that only a few floats
 * cross back to the host, and only when the loss is asked for.
 *
 * <p><b>Style.</b> Each kernel is a static body {@code xAt(i, ...)} that computes element {@code i} of its index
 * space and reads only the arrays it is given, and a loop {@code x(...)} that runs the body over the whole space.
 * The loops are the plain-Java execution; the tornado backend runs the same bodies inside TornadoVM
 * {@code @Parallel} loops. So bodies use only what TornadoVM compiles: primitive arrays, {@code int}/{@code
 * float}/{@code double} arithmetic and casts, {@link Math#exp}, {@link Math#sqrt}, {@link Math#pow},
 * {@link Math#min}/{@link Math#max}/{@link Math#abs}; no {@link Math#floor} (TornadoVM's OpenCL code generator
 * lacks it: {@link #floor} instead), no objects, no exceptions, no {@code null} arrays (an absent
 * bias or zero point is an array of zeros). Shapes and per-step scalars travel in two small arrays, {@code dims}
 * (indices {@link #BATCH}...) and {@code hyper} ({@link #BETA}...), so that one compiled task graph serves every
 * step: TornadoVM fixes scalar arguments when it builds the graph.
 *
 * <p>Layouts: input {@code [B, H, W, C]}, weight {@code [OC, KH, KW, C]} (TFLite's OHWI; a dense layer is the
 * 1x1 case, {@code [OC, C]}) or, depthwise ({@link #DEPTHWISE}), {@code [KH, KW, C*M]}; output
 * {@code [B, OH, OW, OC]}; quantizer channels along the output-channel axis, weight {@code j} in channel
 * {@code (j / W_INNER) % W_CHANNELS} (a per-tensor quantizer repeats its scale).
 */
public final class ReconKernels {
    // ---- dims: shapes, fixed for a unit
    public static final int BATCH = 0;
    public static final int IN_H = 1;
    public static final int IN_W = 2;
    public static final int IN_C = 3;
    public static final int OUT_H = 4;
    public static final int OUT_W = 5;
    public static final int OUT_C = 6;
    public static final int K_H = 7;
    public static final int K_W = 8;
    public static final int STRIDE_H = 9;
    public static final int STRIDE_W = 10;
    public static final int PAD_TOP = 11;
    public static final int PAD_LEFT = 12;
    /** 0 none, 1 ReLU, 2 ReLU6 ({@link #ACT_NONE}...). */
    public static final int ACTIVATION = 13;
    /** 1 when the unit's input quantizer is applied while gathering, else 0. */
    public static final int QUANTIZE_INPUT = 14;

    public static final int W_CHANNELS = 15;
    public static final int W_INNER = 16;
    /** Number of partial sums of the squared error ({@link #lossAt}'s index space). */
    public static final int LOSS_PARTS = 17;
    /** What trains: {@link #MODE_ROUNDING} (AdaRound's V) or {@link #MODE_WEIGHTS} (AdaQuant's weights and biases). */
    public static final int MODE = 18;
    /** 1 for a depthwise convolution (weight {@code [KH, KW, C*M]}, output channel {@code oc} reads input channel
     * {@code oc / M}), else 0. */
    public static final int DEPTHWISE = 19;
    /** Depthwise channel multiplier {@code M}. */
    public static final int MULTIPLIER = 20;
    /** 1 when the layer has a bias (it trains in {@link #MODE_WEIGHTS}); 0 when it has none (the zeros stay). */
    public static final int HAS_BIAS = 21;

    public static final int DIMS = 22;

    public static final int MODE_ROUNDING = 0;
    public static final int MODE_WEIGHTS = 1;

    public static final int ACT_NONE = 0;
    public static final int ACT_RELU = 1;
    public static final int ACT_RELU6 = 2;

    // ---- hyper: per-step and quantizer scalars
    /** AdaRound regularizer exponent β of this step. */
    public static final int BETA = 0;
    /** Weight of the regularizer's gradient (λ / output channels; 0 during warm-up). */
    public static final int REG_WEIGHT = 1;
    /** Adam step size. */
    public static final int LR = 2;
    /** Adam bias corrections {@code 1 - beta1^t} and {@code 1 - beta2^t} of this step. */
    public static final int ADAM_C1 = 3;

    public static final int ADAM_C2 = 4;
    public static final int IN_SCALE = 5;
    public static final int IN_ZERO = 6;
    public static final int IN_QMIN = 7;
    public static final int IN_QMAX = 8;
    public static final int W_QMIN = 9;
    public static final int W_QMAX = 10;
    /** 1 on a training step; 0 when only the loss is evaluated (gradient and update kernels do nothing). */
    public static final int TRAIN = 11;
    /** 1 on the first step whose loss is accumulated afresh (resets the partial sums), else 0. */
    public static final int CLEAR_LOSS = 12;

    public static final int HYPER = 13;

    /** Stretch of the rectified sigmoid (AdaRound's ζ and γ). */
    public static final float ZETA = 1.1f;

    public static final float GAMMA = -0.1f;
    /** Adam's PyTorch defaults. */
    public static final float ADAM_BETA1 = 0.9f;

    public static final float ADAM_BETA2 = 0.999f;
    public static final float ADAM_EPS = 1e-8f;

    private ReconKernels() {}

    public static int inSize(int[] d) {
        return d[IN_H] * d[IN_W] * d[IN_C];
    }

    public static int outSize(int[] d) {
        return d[OUT_H] * d[OUT_W] * d[OUT_C];
    }

    /** Weight elements: {@code OC*KH*KW*C}, or {@code KH*KW*OC} for a depthwise convolution. */
    public static int weights(int[] d) {
        return d[DEPTHWISE] != 0 ? d[K_H] * d[K_W] * d[OUT_C] : d[OUT_C] * d[K_H] * d[K_W] * d[IN_C];
    }

    // ------------------------------------------------------------------ scalar helpers

    /** Largest magnitude {@link #floor} is exact for; larger inputs are clamped to it (grids are far smaller). */
    static final float FLOOR_RANGE = 1 << 30;

    /**
     * {@code floor(x)} for {@code |x| <= 2^30} (beyond that, of the clamped value): truncation toward zero, one less
     * where that rounded up. TornadoVM's OpenCL code generator has no {@link Math#floor}; the cast it has.
     */
    public static float floor(float x) {
        float c = Math.min(Math.max(x, -FLOOR_RANGE), FLOOR_RANGE);
        float f = (float) (int) c;
        return f > c ? f - 1f : f;
    }

    /**
     * {@code rint} (round half to even) for {@code |t| < 2^62}: {@code r = floor(t + 1/2)}, one less where {@code t}
     * lies exactly half-way and {@code r} is odd. In double, {@code t + 1/2} is exact for every float {@code t}.
     */
    public static double roundHalfEven(double t) {
        double u = t + 0.5;
        double r = (double) (long) u;
        if (r > u) {
            r = r - 1;
        }
        if (r - t == 0.5 && (((long) r) & 1L) != 0) {
            r = r - 1;
        }
        return r;
    }

    /**
     * Eq. 1, {@code q(x) = s (clamp(rint(x/s) + z, n, p) - z)}. {@code x/s} is first clamped to one step beyond the
     * grid, which leaves the result unchanged and keeps the rounding in range.
     */
    public static float fakeQuant(float x, float s, float z, float qmin, float qmax) {
        float t = x / s;
        t = Math.min(Math.max(t, qmin - z - 1f), qmax - z + 1f);
        float u = (float) roundHalfEven(t) + z;
        u = Math.min(Math.max(u, qmin), qmax);
        return s * (u - z);
    }

    /** {@code sigmoid(v)} in float, as the cpu backend's AdaRound computes it. */
    public static float sigmoid(float v) {
        return (float) (1.0 / (1.0 + Math.exp(-v)));
    }

    // ------------------------------------------------------------------ 1. gather

    /** Element {@code i} of the batch input {@code x[B * inSize]}: sample {@code rows[b]}, quantized; 0 where the row is -1. */
    public static void gatherInputAt(int i, float[] inputs, int[] rows, float[] x, int[] dims, float[] hyper) {
        int inSize = dims[IN_H] * dims[IN_W] * dims[IN_C];
        int b = i / inSize;
        int e = i - b * inSize;
        int row = rows[b];
        float v = 0f;
        if (row >= 0) {
            v = inputs[row * inSize + e];
            if (dims[QUANTIZE_INPUT] != 0) {
                v = fakeQuant(v, hyper[IN_SCALE], hyper[IN_ZERO], hyper[IN_QMIN], hyper[IN_QMAX]);
            }
        }
        x[i] = v;
    }

    public static void gatherInput(float[] inputs, int[] rows, float[] x, int[] dims, float[] hyper) {
        int n = dims[BATCH] * inSize(dims);
        for (int i = 0; i < n; i++) {
            gatherInputAt(i, inputs, rows, x, dims, hyper);
        }
    }

    // ------------------------------------------------------------------ 2. weights for the forward

    /**
     * Weight {@code j} as the forward uses it: soft-rounded, {@code s (clamp(floor(W/s) + z + h(V), n, p) - z)}, or in
     * {@link #MODE_WEIGHTS} fake-quantized, {@code q(W; s, z)}.
     */
    public static void quantizeWeightAt(
            int j, float[] w, float[] v, float[] scale, float[] zero, float[] wq, int[] dims, float[] hyper) {
        int c = (j / dims[W_INNER]) % dims[W_CHANNELS];
        float s = scale[c];
        float z = zero[c];
        if (dims[MODE] == MODE_WEIGHTS) {
            wq[j] = fakeQuant(w[j], s, z, hyper[W_QMIN], hyper[W_QMAX]);
        } else {
            float stretched = sigmoid(v[j]) * (ZETA - GAMMA) + GAMMA;
            float h = Math.min(Math.max(stretched, 0f), 1f);
            float u = floor(w[j] / s) + z + h;
            wq[j] = s * (Math.min(Math.max(u, hyper[W_QMIN]), hyper[W_QMAX]) - z);
        }
    }

    public static void quantizeWeights(
            float[] w, float[] v, float[] scale, float[] zero, float[] wq, int[] dims, float[] hyper) {
        int n = weights(dims);
        for (int j = 0; j < n; j++) {
            quantizeWeightAt(j, w, v, scale, zero, wq, dims, hyper);
        }
    }

    // ------------------------------------------------------------------ 3. forward and loss gradient

    /**
     * Output element {@code o} of {@code [B, OH, OW, OC]}: {@code acc = bias + sum x * W~} over the receptive field,
     * {@code y = act(acc)}, squared error {@code sq[o] = (y - t)^2} and {@code dy[o] = 2 (y - t) / N} where the
     * activation passes gradient ({@code N = B * outSize}); both 0 for a padding row ({@code rows[b] = -1}).
     */
    public static void forwardLossAt(
            int o,
            float[] x,
            float[] wq,
            float[] bias,
            float[] targets,
            int[] rows,
            float[] dy,
            float[] sq,
            int[] dims,
            float[] hyper) {
        int inH = dims[IN_H];
        int inW = dims[IN_W];
        int inC = dims[IN_C];
        int outH = dims[OUT_H];
        int outW = dims[OUT_W];
        int outC = dims[OUT_C];
        int kh = dims[K_H];
        int kw = dims[K_W];
        int sh = dims[STRIDE_H];
        int sw = dims[STRIDE_W];
        int padT = dims[PAD_TOP];
        int padL = dims[PAD_LEFT];
        int oc = o % outC;
        int pos = o / outC;
        int ox = pos % outW;
        int rest = pos / outW;
        int oy = rest % outH;
        int b = rest / outH;
        float acc = bias[oc];
        boolean depthwise = dims[DEPTHWISE] != 0;
        int dwIn = depthwise ? oc / dims[MULTIPLIER] : 0;
        for (int ky = 0; ky < kh; ky++) {
            int iy = oy * sh - padT + ky;
            if (iy >= 0 && iy < inH) {
                for (int kx = 0; kx < kw; kx++) {
                    int ix = ox * sw - padL + kx;
                    if (ix >= 0 && ix < inW) {
                        int xb = ((b * inH + iy) * inW + ix) * inC;
                        if (depthwise) {
                            acc += x[xb + dwIn] * wq[(ky * kw + kx) * outC + oc];
                        } else {
                            int wb = ((oc * kh + ky) * kw + kx) * inC;
                            for (int ic = 0; ic < inC; ic++) {
                                acc += x[xb + ic] * wq[wb + ic];
                            }
                        }
                    }
                }
            }
        }
        int act = dims[ACTIVATION];
        float y = acc;
        boolean pass = true;
        if (act == ACT_RELU) {
            y = Math.max(acc, 0f);
            pass = acc > 0f;
        } else if (act == ACT_RELU6) {
            y = Math.min(Math.max(acc, 0f), 6f);
            pass = acc > 0f && acc < 6f;
        }
        int outSize = outH * outW * outC;
        int row = rows[b];
        if (row < 0) {
            sq[o] = 0f;
            dy[o] = 0f;
        } else {
            float diff = y - targets[row * outSize + (o - b * outSize)];
            sq[o] = diff * diff;
            dy[o] = pass ? 2f * diff / (float) (dims[BATCH] * outSize) : 0f;
        }
    }

    public static void forwardLoss(
            float[] x,
            float[] wq,
            float[] bias,
            float[] targets,
            int[] rows,
            float[] dy,
            float[] sq,
            int[] dims,
            float[] hyper) {
        int n = dims[BATCH] * outSize(dims);
        for (int o = 0; o < n; o++) {
            forwardLossAt(o, x, wq, bias, targets, rows, dy, sq, dims, hyper);
        }
    }

    // ------------------------------------------------------------------ loss partial sums

    /**
     * Partial sum {@code p} of the batch's mean squared error: {@code sum sq[p], sq[p+P], ...} over {@code N}, added to
     * {@code lossAcc[p]} (or replacing it on a {@link #CLEAR_LOSS} step). Summing {@code lossAcc} gives the sum of
     * the steps' losses.
     */
    public static void lossAt(int p, float[] sq, float[] lossAcc, int[] dims, float[] hyper) {
        int parts = dims[LOSS_PARTS];
        int n = dims[BATCH] * dims[OUT_H] * dims[OUT_W] * dims[OUT_C];
        float sum = 0f;
        for (int i = p; i < n; i += parts) {
            sum += sq[i];
        }
        float before = hyper[CLEAR_LOSS] != 0f ? 0f : lossAcc[p];
        lossAcc[p] = before + sum / (float) n;
    }

    public static void loss(float[] sq, float[] lossAcc, int[] dims, float[] hyper) {
        for (int p = 0; p < dims[LOSS_PARTS]; p++) {
            lossAt(p, sq, lossAcc, dims, hyper);
        }
    }

    // ------------------------------------------------------------------ 4. weight gradient

    /**
     * Element {@code j = b * weights + k} of the per-sample weight gradients: {@code sum over output positions of
     * dy[b, oy, ox, oc] * x[b, iy, ix, ic]} for weight {@code k = (oc, ky, kx, ic)}. Nothing on an evaluation step.
     */
    public static void weightGradAt(int j, float[] x, float[] dy, float[] gwPart, int[] dims, float[] hyper) {
        if (hyper[TRAIN] != 0f) {
            int inH = dims[IN_H];
            int inW = dims[IN_W];
            int inC = dims[IN_C];
            int outH = dims[OUT_H];
            int outW = dims[OUT_W];
            int outC = dims[OUT_C];
            int kh = dims[K_H];
            int kw = dims[K_W];
            int sh = dims[STRIDE_H];
            int sw = dims[STRIDE_W];
            int padT = dims[PAD_TOP];
            int padL = dims[PAD_LEFT];
            int nW = weights(dims);
            int b = j / nW;
            int k = j - b * nW;
            int ic;
            int kx;
            int ky;
            int oc;
            if (dims[DEPTHWISE] != 0) {
                // [KH, KW, C*M]: output channel fastest; it reads input channel oc / M
                oc = k % outC;
                int t = k / outC;
                kx = t % kw;
                ky = t / kw;
                ic = oc / dims[MULTIPLIER];
            } else {
                ic = k % inC;
                int t = k / inC;
                kx = t % kw;
                t = t / kw;
                ky = t % kh;
                oc = t / kh;
            }
            float acc = 0f;
            for (int oy = 0; oy < outH; oy++) {
                int iy = oy * sh - padT + ky;
                if (iy >= 0 && iy < inH) {
                    for (int ox = 0; ox < outW; ox++) {
                        int ix = ox * sw - padL + kx;
                        if (ix >= 0 && ix < inW) {
                            acc += dy[((b * outH + oy) * outW + ox) * outC + oc]
                                    * x[((b * inH + iy) * inW + ix) * inC + ic];
                        }
                    }
                }
            }
            gwPart[j] = acc;
        }
    }

    public static void weightGrad(float[] x, float[] dy, float[] gwPart, int[] dims, float[] hyper) {
        int n = dims[BATCH] * weights(dims);
        for (int j = 0; j < n; j++) {
            weightGradAt(j, x, dy, gwPart, dims, hyper);
        }
    }

    // ------------------------------------------------------------------ 5. variable gradient and Adam

    /**
     * The variable's gradient and Adam step for weight {@code j}, with {@code g = sum_b gwPart[b, j]} (dL/dW~).
     * Rounding: {@code dL/dV = g s h'(V)} inside the grid (the clamp is flat outside),
     * {@code h'(V) = (ζ-γ) σ(V)(1-σ(V))} where the rectifying clamp is open; the regularizer {@code 1 - |2h - 1|^β}
     * adds {@code w_reg (-β |2h-1|^(β-1) sign(2h-1)) 2 h'(V)} (0 at {@code 2h = 1}, where the sign vanishes).
     * Weights: the straight-through estimator of Eq. 1, {@code dL/dW = g} where {@code rint(W/s) + z} lies in the grid,
     * else 0 (as the cpu backend's fake quantization, LSQ's rule for the input).
     * Adam: {@code m = β1 m + (1-β1) g}, {@code a = β2 a + (1-β2) g²}, {@code x -= lr (m/c1) / (sqrt(a/c2) + ε)}.
     */
    public static void updateAt(
            int j,
            float[] w,
            float[] v,
            float[] gwPart,
            float[] scale,
            float[] zero,
            float[] m1,
            float[] m2,
            int[] dims,
            float[] hyper) {
        if (hyper[TRAIN] != 0f) {
            int nW = weights(dims);
            int batch = dims[BATCH];
            float g = 0f;
            for (int b = 0; b < batch; b++) {
                g += gwPart[b * nW + j];
            }
            int c = (j / dims[W_INNER]) % dims[W_CHANNELS];
            float s = scale[c];
            float z = zero[c];
            if (dims[MODE] == MODE_WEIGHTS) {
                float u = (float) roundHalfEven(w[j] / s) + z;
                float grad = u >= hyper[W_QMIN] && u <= hyper[W_QMAX] ? g : 0f;
                w[j] = adam(w[j], grad, j, m1, m2, hyper);
            } else {
                float vj = v[j];
                float sig = sigmoid(vj);
                float stretched = sig * (ZETA - GAMMA) + GAMMA;
                float dh = stretched > 0f && stretched < 1f ? (ZETA - GAMMA) * sig * (1f - sig) : 0f;
                float h = Math.min(Math.max(stretched, 0f), 1f);
                float u = floor(w[j] / s) + z + h;
                float grad = u >= hyper[W_QMIN] && u <= hyper[W_QMAX] ? g * s * dh : 0f;
                float regWeight = hyper[REG_WEIGHT];
                float beta = hyper[BETA];
                float t = 2f * h - 1f;
                float at = Math.abs(t);
                if (regWeight != 0f && at != 0f) {
                    float dt = (float) (-beta * Math.pow(at, beta - 1f));
                    if (t < 0f) {
                        dt = -dt;
                    }
                    grad += regWeight * dt * 2f * dh;
                }
                v[j] = adam(vj, grad, j, m1, m2, hyper);
            }
        }
    }

    /** One Adam step of {@code x} (element {@code j}) with gradient {@code g}; updates the moments, returns the new x. */
    static float adam(float x, float g, int j, float[] m1, float[] m2, float[] hyper) {
        float m = ADAM_BETA1 * m1[j] + (1f - ADAM_BETA1) * g;
        float a = ADAM_BETA2 * m2[j] + (1f - ADAM_BETA2) * g * g;
        m1[j] = m;
        m2[j] = a;
        return x - hyper[LR] * (m / hyper[ADAM_C1]) / ((float) Math.sqrt(a / hyper[ADAM_C2]) + ADAM_EPS);
    }

    public static void update(
            float[] w,
            float[] v,
            float[] gwPart,
            float[] scale,
            float[] zero,
            float[] m1,
            float[] m2,
            int[] dims,
            float[] hyper) {
        int n = weights(dims);
        for (int j = 0; j < n; j++) {
            updateAt(j, w, v, gwPart, scale, zero, m1, m2, dims, hyper);
        }
    }

    // ------------------------------------------------------------------ 6. bias (AdaQuant)

    /**
     * Bias {@code oc} in {@link #MODE_WEIGHTS}: {@code dL/db = sum over the batch's output positions of dy[.., oc]} and
     * an Adam step; nothing on an evaluation step, while the rounding trains (the bias stays), or for a layer without
     * a bias.
     */
    public static void biasUpdateAt(
            int oc, float[] dy, float[] bias, float[] m1, float[] m2, int[] dims, float[] hyper) {
        if (hyper[TRAIN] != 0f && dims[MODE] == MODE_WEIGHTS && dims[HAS_BIAS] != 0) {
            int outC = dims[OUT_C];
            int n = dims[BATCH] * dims[OUT_H] * dims[OUT_W];
            float g = 0f;
            for (int p = 0; p < n; p++) {
                g += dy[p * outC + oc];
            }
            bias[oc] = adam(bias[oc], g, oc, m1, m2, hyper);
        }
    }

    public static void biasUpdate(float[] dy, float[] bias, float[] m1, float[] m2, int[] dims, float[] hyper) {
        for (int oc = 0; oc < dims[OUT_C]; oc++) {
            biasUpdateAt(oc, dy, bias, m1, m2, dims, hyper);
        }
    }
}
