package io.tinyptq.backend.cpu.kernels;

/**
 * AdaRound's soft rounding (Nagel et al. 2020, "Up or Down? Adaptive Rounding for Post-Training
 * Quantization"). Instead of rounding to nearest, each weight learns whether to round up or down:
 * <pre>
 *   W~ = s * (clamp(floor(W/s) + z + h(V), n, p) - z)       (z = 0: the paper's symmetric form)
 *   h(V) = clamp(sigmoid(V) * (zeta - gamma) + gamma, 0, 1), zeta = 1.1, gamma = -0.1
 * </pre>
 * The rectified sigmoid {@code h} reaches exactly 0 and 1 with a non-vanishing gradient in between, and the
 * regularizer {@code f_reg(V) = sum (1 - |2h(V) - 1|^beta)} (annealed {@code beta}) pushes every {@code h}
 * towards 0 or 1. After optimization, {@link #hardRoundReference} uses {@code h = [V >= 0]}.
 *
 * <p><b>Gradients.</b> {@code floor(W/s)} and {@code z} are constants for V. Inside the grid
 * ({@code n <= floor(W/s)+z+h <= p}) {@code dW~/dV = s * h'(V)}, outside 0 (the clamp is flat).
 * {@code h'(V) = (zeta - gamma) * sigmoid(V) * (1 - sigmoid(V))} where the rectifying clamp is inactive
 * ({@code 0 < sigmoid(V)(zeta-gamma)+gamma < 1}), else 0.
 * Regularizer: with {@code t = 2h - 1}, {@code d/dV (1 - |t|^beta) = -beta |t|^(beta-1) sign(t) * 2 h'(V)}.
 *
 * <p><b>Initialisation</b>: {@code V} such that {@code h(V)} equals the fractional part
 * {@code f = W/s - floor(W/s)}, i.e. {@code sigmoid(V) = (f - gamma)/(zeta - gamma)} and
 * {@code V = log(sigma/(1 - sigma))}; since {@code f} is in {@code [0,1)}, {@code sigma} is in
 * {@code [1/12, 11/12)} and V is finite. Then the soft-rounded weight initially equals W (inside the grid).
 *
 * <p>Weights use the {@code [outer, channels, inner]} per-channel view of {@link FakeQuant}. These kernels run on
 * weight tensors (at most ~10^5 elements in tinyML layers, tens of microseconds), so the scalar reference is
 * also the fast path. Backward methods add into {@code dV}.
 */
public final class AdaRound {
    /** Stretch of the rectified sigmoid's upper end. */
    public static final float ZETA = 1.1f;
    /** Stretch of the rectified sigmoid's lower end. */
    public static final float GAMMA = -0.1f;

    private AdaRound() {
    }

    /** {@code h(V) = clamp(sigmoid(V)*(zeta-gamma)+gamma, 0, 1)}. */
    public static float rectifiedSigmoid(float v) {
        float sig = (float) (1 / (1 + Math.exp(-v)));
        return Math.min(Math.max(sig * (ZETA - GAMMA) + GAMMA, 0f), 1f);
    }

    /** {@code h'(V)}: {@code (zeta-gamma) sigmoid(V)(1-sigmoid(V))} where the clamp is inactive, else 0. */
    public static float rectifiedSigmoidGrad(float v) {
        float sig = (float) (1 / (1 + Math.exp(-v)));
        float stretched = sig * (ZETA - GAMMA) + GAMMA;
        return stretched > 0f && stretched < 1f ? (ZETA - GAMMA) * sig * (1 - sig) : 0f;
    }

    /** Soft-rounded weights {@code y = W~(V)}. */
    public static void forwardReference(float[] w, float[] v, int outer, int channels, int inner, float[] scale,
                                        float[] zero, float qmin, float qmax, float[] y) {
        int len = check(w, v, outer, channels, inner, scale, zero);
        Checks.length("soft-rounded weight", y, len, outer, channels, inner);
        for (int i = 0; i < len; i++) {
            int c = (i / inner) % channels;
            float s = scale[c];
            float z = zero == null ? 0f : zero[c];
            float u = (float) Math.floor(w[i] / s) + z + rectifiedSigmoid(v[i]);
            y[i] = s * (Math.min(Math.max(u, qmin), qmax) - z);
        }
    }

    /** Gradient with respect to V: {@code dV += dy * s * h'(V)} inside the grid. */
    public static void backwardReference(float[] w, float[] v, float[] dy, int outer, int channels, int inner,
                                         float[] scale, float[] zero, float qmin, float qmax, float[] dV) {
        int len = check(w, v, outer, channels, inner, scale, zero);
        Checks.length("soft-rounded weight gradient", dy, len, outer, channels, inner);
        Checks.length("V gradient", dV, len, outer, channels, inner);
        for (int i = 0; i < len; i++) {
            int c = (i / inner) % channels;
            float s = scale[c];
            float z = zero == null ? 0f : zero[c];
            float u = (float) Math.floor(w[i] / s) + z + rectifiedSigmoid(v[i]);
            if (u >= qmin && u <= qmax) {
                dV[i] += dy[i] * s * rectifiedSigmoidGrad(v[i]);
            }
        }
    }

    /** The rounding regularizer {@code sum_i (1 - |2h(V_i) - 1|^beta)} over {@code [off, off+len)}. */
    public static double regularizer(float[] v, int off, int len, float beta) {
        Checks.range("V", v, off, len);
        double sum = 0;
        for (int i = 0; i < len; i++) {
            sum += 1 - Math.pow(Math.abs(2 * rectifiedSigmoid(v[off + i]) - 1), beta);
        }
        return sum;
    }

    /** Adds {@code weight * d f_reg / dV} (see the class comment) into {@code dV}. */
    public static void regularizerBackward(float[] v, int off, int len, float beta, float weight, float[] dV,
                                           int dOff) {
        Checks.range("V", v, off, len);
        Checks.range("V gradient", dV, dOff, len);
        for (int i = 0; i < len; i++) {
            float t = 2 * rectifiedSigmoid(v[off + i]) - 1;
            float at = Math.abs(t);
            if (at == 0f && beta < 1) {
                continue; // |t|^(beta-1) diverges at t = 0 for beta < 1; take the subgradient 0
            }
            float dt = (float) (-beta * Math.pow(at, beta - 1)) * Math.signum(t);
            dV[dOff + i] += weight * dt * 2 * rectifiedSigmoidGrad(v[off + i]);
        }
    }

    /** Initialises V so that {@code h(V)} equals the fractional part of {@code W/s} (see the class comment). */
    public static void initReference(float[] w, int outer, int channels, int inner, float[] scale, float[] v) {
        int len = check(w, v, outer, channels, inner, scale, null);
        for (int i = 0; i < len; i++) {
            float s = scale[(i / inner) % channels];
            float ws = w[i] / s;
            float frac = ws - (float) Math.floor(ws);
            double sig = (frac - GAMMA) / (double) (ZETA - GAMMA);
            v[i] = (float) Math.log(sig / (1 - sig));
        }
    }

    /** Hard-rounded weights: {@code s * (clamp(floor(W/s) + z + [V >= 0], n, p) - z)}. */
    public static void hardRoundReference(float[] w, float[] v, int outer, int channels, int inner, float[] scale,
                                          float[] zero, float qmin, float qmax, float[] y) {
        int len = check(w, v, outer, channels, inner, scale, zero);
        Checks.length("hard-rounded weight", y, len, outer, channels, inner);
        for (int i = 0; i < len; i++) {
            int c = (i / inner) % channels;
            float s = scale[c];
            float z = zero == null ? 0f : zero[c];
            float u = (float) Math.floor(w[i] / s) + z + (v[i] >= 0f ? 1f : 0f);
            y[i] = s * (Math.min(Math.max(u, qmin), qmax) - z);
        }
    }

    private static int check(float[] w, float[] v, int outer, int channels, int inner, float[] scale, float[] zero) {
        Checks.positive("AdaRound dimensions [outer, channels, inner]", outer, channels, inner);
        int len = outer * channels * inner;
        Checks.length("weight", w, len, outer, channels, inner);
        Checks.length("V", v, len, outer, channels, inner);
        Checks.length("scale [channels]", scale, channels, channels);
        if (zero != null) {
            Checks.length("zero point [channels]", zero, channels, channels);
        }
        return len;
    }
}
