package io.tinyptq.backend.cpu.kernels;

import static io.tinyptq.backend.cpu.kernels.MicroKernel.S;
import static io.tinyptq.backend.cpu.kernels.MicroKernel.VL;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * The tail of a layer's reconstruction loss in one pass per direction: an optional ReLU/ReLU6 on the layer's
 * pre-activation output {@code y} (rows of {@code C} channels), then the mean squared error against {@code t}:
 * <pre>
 *   L      = (1/len) sum (a - t)^2,         a = clamp(y, 0, cap)  (or a = y without activation)
 *   dL/dy  = seed * 2 (a - t) / len * [0 &lt; y &lt; cap]   (TensorFlow's zero gradient at the kinks)
 * </pre>
 * Run as separate graph nodes this is an activation pass, an MSE pass, gradient zeroing, an MSE gradient pass and
 * an activation gradient pass; on a 32x32x16 batch of 32 each pass streams 2 MB. Here the forward reads {@code y}
 * and {@code t} once for the loss, and the backward reads them once more and writes the gradient. The gradient
 * values are the same floats the separate nodes compute ({@code 2*seed/len} times the difference, then masked);
 * the loss is summed per sample lane-wise in float and over samples in double, in a fixed order whatever the
 * thread count.
 */
public final class ActivationMse {
    private ActivationMse() {}

    // ---------------------------------------------------------------- reference

    /** Reference loss: {@code (1/len) sum (act(y) - t)^2} over {@code len} elements. */
    public static float lossReference(float[] y, float[] t, int len, boolean activation, float cap) {
        Checks.positive("mse length", len);
        Checks.range("prediction", y, 0, len);
        Checks.range("target", t, 0, len);
        double sum = 0;
        for (int i = 0; i < len; i++) {
            float d = act(y[i], activation, cap) - t[i];
            sum += (double) d * d;
        }
        return (float) (sum / len);
    }

    /** Reference gradient of {@code seed * L} with respect to {@code y}: writes {@code dy} ({@code len} values). */
    public static void gradientReference(
            float[] y, float[] t, int len, boolean activation, float cap, float seed, float[] dy) {
        checkGradient(y, t, len, dy);
        float s = 2f * seed / len;
        for (int i = 0; i < len; i++) {
            float v = y[i];
            float g = s * (act(v, activation, cap) - t[i]);
            dy[i] = activation && !(v > 0f && v < cap) ? 0f : g;
        }
    }

    private static float act(float v, boolean activation, float cap) {
        return activation ? Math.min(Math.max(v, 0f), cap) : v;
    }

    // ---------------------------------------------------------------- fast

    /**
     * Fast loss over {@code samples} rows of {@code sampleSize}; {@code partial} (at least {@code samples} long)
     * receives the per-sample sums. The threads split the samples.
     */
    public static float loss(
            float[] y,
            float[] t,
            int samples,
            int sampleSize,
            boolean activation,
            float cap,
            double[] partial,
            Parallel par) {
        Checks.positive("mse samples and sample size", samples, sampleSize);
        int len = samples * sampleSize;
        Checks.range("prediction", y, 0, len);
        Checks.range("target", t, 0, len);
        if (partial.length < samples) {
            throw new IllegalArgumentException("partial sums: " + partial.length + " < " + samples + " samples");
        }
        float lo = activation ? 0f : Float.NEGATIVE_INFINITY;
        float hi = activation ? cap : Float.POSITIVE_INFINITY;
        par.forRange(samples, 2, (w, n0, n1) -> {
            for (int n = n0; n < n1; n++) {
                int i = n * sampleSize;
                int end = i + sampleSize;
                FloatVector acc = FloatVector.zero(S);
                for (; i <= end - VL; i += VL) {
                    FloatVector d =
                            FloatVector.fromArray(S, y, i).max(lo).min(hi).sub(FloatVector.fromArray(S, t, i));
                    acc = d.fma(d, acc);
                }
                double sum = VectorMath.sumLanes(acc);
                for (; i < end; i++) {
                    float d = Math.min(Math.max(y[i], lo), hi) - t[i];
                    sum += (double) d * d;
                }
                partial[n] = sum;
            }
        });
        double sum = 0;
        for (int n = 0; n < samples; n++) {
            sum += partial[n];
        }
        return (float) (sum / len);
    }

    /** Fast gradient (see {@link #gradientReference}); the threads split the elements. */
    public static void gradient(
            float[] y, float[] t, int len, boolean activation, float cap, float seed, float[] dy, Parallel par) {
        checkGradient(y, t, len, dy);
        float s = 2f * seed / len;
        float lo = activation ? 0f : Float.NEGATIVE_INFINITY;
        float hi = activation ? cap : Float.POSITIVE_INFINITY;
        par.forRange(len, Elementwise.PARALLEL_THRESHOLD, (w, from, to) -> {
            int i = from;
            for (; i <= to - VL; i += VL) {
                FloatVector v = FloatVector.fromArray(S, y, i);
                FloatVector g =
                        v.max(lo).min(hi).sub(FloatVector.fromArray(S, t, i)).mul(s);
                if (activation) {
                    VectorMask<Float> pass = v.compare(VectorOperators.GT, 0f).and(v.compare(VectorOperators.LT, cap));
                    g = g.blend(0f, pass.not());
                }
                g.intoArray(dy, i);
            }
            for (; i < to; i++) {
                float v = y[i];
                float g = s * (Math.min(Math.max(v, lo), hi) - t[i]);
                dy[i] = activation && !(v > 0f && v < cap) ? 0f : g;
            }
        });
    }

    private static void checkGradient(float[] y, float[] t, int len, float[] dy) {
        Checks.positive("gradient length", len);
        Checks.range("prediction", y, 0, len);
        Checks.range("target", t, 0, len);
        Checks.range("gradient", dy, 0, len);
    }
}
