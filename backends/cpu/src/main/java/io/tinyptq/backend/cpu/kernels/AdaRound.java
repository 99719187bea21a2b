package io.tinyptq.backend.cpu.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

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
 * <p>Weights use the {@code [outer, channels, inner]} per-channel view of {@link FakeQuant}. Besides the scalar
 * references, {@link #forward} and {@link #backward} are Vector API paths ({@link VectorMath}'s {@code exp}/{@code log},
 * reproducible in every execution mode,
 * one sigmoid per weight shared by the reconstruction and regularizer gradients); they vectorize along
 * {@code inner} and fall back to the references when {@code inner} is shorter than a vector. Backward methods
 * add into {@code dV}.
 */
public final class AdaRound {
    /** Stretch of the rectified sigmoid's upper end. */
    public static final float ZETA = 1.1f;
    /** Stretch of the rectified sigmoid's lower end. */
    public static final float GAMMA = -0.1f;

    private AdaRound() {}

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
    public static void forwardReference(
            float[] w,
            float[] v,
            int outer,
            int channels,
            int inner,
            float[] scale,
            float[] zero,
            float qmin,
            float qmax,
            float[] y) {
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
    public static void backwardReference(
            float[] w,
            float[] v,
            float[] dy,
            int outer,
            int channels,
            int inner,
            float[] scale,
            float[] zero,
            float qmin,
            float qmax,
            float[] dV) {
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

    /**
     * Gradient of the straight-through sign rounding with respect to V: the forward pass is the hard rounding
     * {@code s * (clamp(floor(W/s) + z + [V >= 0], n, p) - z)}, the backward pass takes {@code d[V >= 0]/dV = 1}, so
     * {@code dV += dy * s} where the rounded value lies inside the grid.
     */
    public static void straightThroughBackward(
            float[] w,
            float[] v,
            float[] dy,
            int outer,
            int channels,
            int inner,
            float[] scale,
            float[] zero,
            float qmin,
            float qmax,
            float[] dV) {
        int len = check(w, v, outer, channels, inner, scale, zero);
        Checks.length("rounded weight gradient", dy, len, outer, channels, inner);
        Checks.length("V gradient", dV, len, outer, channels, inner);
        for (int i = 0; i < len; i++) {
            int c = (i / inner) % channels;
            float s = scale[c];
            float z = zero == null ? 0f : zero[c];
            float u = (float) Math.floor(w[i] / s) + z + (v[i] >= 0f ? 1f : 0f);
            if (u >= qmin && u <= qmax) {
                dV[i] += dy[i] * s;
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
    public static void regularizerBackward(
            float[] v, int off, int len, float beta, float weight, float[] dV, int dOff) {
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
    public static void hardRoundReference(
            float[] w,
            float[] v,
            int outer,
            int channels,
            int inner,
            float[] scale,
            float[] zero,
            float qmin,
            float qmax,
            float[] y) {
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
    // ------------------------------------------------------------------ fast

    /** Fast soft-rounded weights (see {@link #forwardReference}); equal to it up to the lane-wise {@code exp}. */
    public static void forward(
            float[] w,
            float[] v,
            int outer,
            int channels,
            int inner,
            float[] scale,
            float[] zero,
            float qmin,
            float qmax,
            float[] y) {
        if (inner < MicroKernel.VL) {
            forwardReference(w, v, outer, channels, inner, scale, zero, qmin, qmax, y);
            return;
        }
        int len = check(w, v, outer, channels, inner, scale, zero);
        Checks.length("soft-rounded weight", y, len, outer, channels, inner);
        VectorSpecies<Float> sp = MicroKernel.S;
        for (int row = 0; row < outer * channels; row++) {
            int c = row % channels;
            float s = scale[c];
            float z = zero == null ? 0f : zero[c];
            int i = row * inner;
            int end = i + inner;
            for (; i <= end - MicroKernel.VL; i += MicroKernel.VL) {
                FloatVector ws = FloatVector.fromArray(sp, w, i).div(s);
                FloatVector h = stretch(sigmoid(FloatVector.fromArray(sp, v, i)))
                        .max(0f)
                        .min(1f);
                floor(ws).add(z).add(h).max(qmin).min(qmax).sub(z).mul(s).intoArray(y, i);
            }
            for (; i < end; i++) {
                float u = (float) Math.floor(w[i] / s) + z + rectifiedSigmoid(v[i]);
                y[i] = s * (Math.min(Math.max(u, qmin), qmax) - z);
            }
        }
    }

    /**
     * Fast V gradient of the reconstruction loss plus {@code regWeight} times the rounding regularizer:
     * {@code dV += dy*s*h'(V)*[inside] + regWeight * d/dV(1 - |2h(V)-1|^beta)} (see the class comment), one
     * sigmoid per weight. {@code regWeight = 0} gives {@link #backwardReference} alone.
     */
    public static void backward(
            float[] w,
            float[] v,
            float[] dy,
            int outer,
            int channels,
            int inner,
            float[] scale,
            float[] zero,
            float qmin,
            float qmax,
            float beta,
            float regWeight,
            float[] dV) {
        if (inner < MicroKernel.VL) {
            backwardReference(w, v, dy, outer, channels, inner, scale, zero, qmin, qmax, dV);
            if (regWeight != 0f) {
                regularizerBackward(v, 0, outer * channels * inner, beta, regWeight, dV, 0);
            }
            return;
        }
        int len = check(w, v, outer, channels, inner, scale, zero);
        Checks.length("soft-rounded weight gradient", dy, len, outer, channels, inner);
        Checks.length("V gradient", dV, len, outer, channels, inner);
        VectorSpecies<Float> sp = MicroKernel.S;
        float span = ZETA - GAMMA;
        for (int row = 0; row < outer * channels; row++) {
            int c = row % channels;
            float s = scale[c];
            float z = zero == null ? 0f : zero[c];
            int i = row * inner;
            int end = i + inner;
            for (; i <= end - MicroKernel.VL; i += MicroKernel.VL) {
                FloatVector sig = sigmoid(FloatVector.fromArray(sp, v, i));
                FloatVector stretched = stretch(sig);
                VectorMask<Float> open =
                        stretched.compare(VectorOperators.GT, 0f).and(stretched.compare(VectorOperators.LT, 1f));
                FloatVector dh = sig.mul(sig.neg().add(1f)).mul(span).blend(0f, open.not());
                FloatVector h = stretched.max(0f).min(1f);
                FloatVector u =
                        floor(FloatVector.fromArray(sp, w, i).div(s)).add(z).add(h);
                VectorMask<Float> inside = u.compare(VectorOperators.GE, qmin).and(u.compare(VectorOperators.LE, qmax));
                FloatVector g = FloatVector.fromArray(sp, dy, i).mul(s).mul(dh).blend(0f, inside.not());
                if (regWeight != 0f) {
                    FloatVector t = h.mul(2f).sub(1f);
                    FloatVector at = t.abs();
                    // |t|^(beta-1) = exp((beta-1) log|t|); at t = 0 the derivative is taken as 0
                    FloatVector pow = VectorMath.exp(VectorMath.log(at).mul(beta - 1))
                            .blend(0f, at.compare(VectorOperators.EQ, 0f));
                    FloatVector dReg = pow.mul(-beta * 2 * regWeight).mul(dh);
                    g = g.add(dReg.blend(dReg.neg(), t.compare(VectorOperators.LT, 0f)));
                }
                FloatVector.fromArray(sp, dV, i).add(g).intoArray(dV, i);
            }
            if (i < end) {
                int from = i;
                for (; i < end; i++) {
                    float u = (float) Math.floor(w[i] / s) + z + rectifiedSigmoid(v[i]);
                    if (u >= qmin && u <= qmax) {
                        dV[i] += dy[i] * s * rectifiedSigmoidGrad(v[i]);
                    }
                }
                if (regWeight != 0f) {
                    regularizerBackward(v, from, end - from, beta, regWeight, dV, from);
                }
            }
        }
    }

    private static FloatVector sigmoid(FloatVector v) {
        return FloatVector.broadcast(MicroKernel.S, 1f)
                .div(VectorMath.exp(v.neg()).add(1f));
    }

    private static FloatVector stretch(FloatVector sig) {
        return sig.mul(ZETA - GAMMA).add(GAMMA);
    }

    /** Lane-wise floor for |x| <= 2^22: round to nearest even, then step down where that rounded up. */
    private static FloatVector floor(FloatVector x) {
        FloatVector r = FakeQuant.rint(x);
        return r.sub(1f, r.compare(VectorOperators.GT, x));
    }
}
