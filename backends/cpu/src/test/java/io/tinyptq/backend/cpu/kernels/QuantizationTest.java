package io.tinyptq.backend.cpu.kernels;

import static io.tinyptq.backend.cpu.kernels.TestData.assertClose;
import static io.tinyptq.backend.cpu.kernels.TestData.gradCheck;
import static io.tinyptq.backend.cpu.kernels.TestData.toDouble;
import static io.tinyptq.backend.cpu.kernels.TestData.uniform;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class QuantizationTest {
    private static final Parallel TWO = new Parallel(2);

    @AfterAll
    static void close() {
        TWO.close();
    }

    @Test
    void grids() {
        assertEquals(-128f, FakeQuant.gridMin(8, true));
        assertEquals(127f, FakeQuant.gridMax(8, true));
        assertEquals(0f, FakeQuant.gridMin(4, false));
        assertEquals(15f, FakeQuant.gridMax(4, false));
        assertEquals(-2f, FakeQuant.gridMin(2, true));
        assertEquals(1f, FakeQuant.gridMax(2, true));
        assertEquals((float) (1 / Math.sqrt(1000 * 127.0)), FakeQuant.lsqGradScale(1000, 127f), 1e-9);
        assertThrows(IllegalArgumentException.class, () -> FakeQuant.gridMax(1, true));
    }

    @Test
    void roundsHalfToEven() {
        float[] x = {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 3.49f, 1e9f, -1e9f};
        float[] y = new float[x.length];
        float[] yf = new float[x.length];
        float[] one = {1f};
        FakeQuant.forwardReference(x, 0, 1, 1, x.length, one, null, -128, 127, y, 0);
        FakeQuant.forward(x, 0, 1, 1, x.length, one, null, -128, 127, yf, 0, Parallel.serial());
        assertClose(new float[] {0, 2, 2, -0f, -2, -2, 3, 127, -128}, y, 0, "reference");
        assertClose(y, yf, 0, "fast");
    }

    /** (outer, channels, inner, bits, signed): per-tensor, NHWC last axis, conv weight axis 0, depthwise last. */
    @ParameterizedTest
    @CsvSource({"1,1,1000,8,true", "50,24,1,4,false", "1,16,75,8,true", "9,40,1,3,true", "7,3,5,2,false", "4,1,1,8,true"
    })
    void matchesEquationOneAndLsqGradients(int outer, int channels, int inner, int bits, boolean signed) {
        SplittableRandom rnd = new SplittableRandom(outer * 1000L + channels * 10L + inner);
        int len = outer * channels * inner;
        float[] x = uniform(rnd, len, -3, 3);
        float[] s = uniform(rnd, channels, 0.02, 0.4);
        float[] z = new float[channels];
        for (int c = 0; c < channels; c++) {
            z[c] = signed ? 0f : (float) Math.floor(rnd.nextDouble() * (FakeQuant.gridMax(bits, false) + 1));
        }
        float n = FakeQuant.gridMin(bits, signed);
        float p = FakeQuant.gridMax(bits, signed);
        float g = 0.37f;
        float[] dy = uniform(rnd, len, -1, 1);

        double[] expectY = new double[len];
        double[] expectDx = new double[len];
        double[] expectDs = new double[channels];
        double[] expectDz = new double[channels];
        for (int i = 0; i < len; i++) {
            int c = (i / inner) % channels;
            float v = x[i] / s[c];
            float u = (float) Math.rint(v) + z[c];
            expectY[i] = s[c] * (Math.min(Math.max(u, n), p) - z[c]);
            if (u < n) {
                expectDs[c] += g * dy[i] * (n - z[c]);
                expectDz[c] += g * dy[i] * -s[c];
            } else if (u > p) {
                expectDs[c] += g * dy[i] * (p - z[c]);
                expectDz[c] += g * dy[i] * -s[c];
            } else {
                expectDx[i] = dy[i];
                expectDs[c] += g * dy[i] * (Math.rint(v) - v);
            }
        }
        float[] y = new float[len];
        FakeQuant.forwardReference(x, 0, outer, channels, inner, s, z, n, p, y, 0);
        assertClose(expectY, y, 1e-6, "reference forward");
        for (Parallel par : new Parallel[] {Parallel.serial(), TWO}) {
            float[] yf = new float[len];
            FakeQuant.forward(x, 0, outer, channels, inner, s, z, n, p, yf, 0, par);
            assertClose(y, yf, 0, "fast forward is bit-identical " + par);
        }
        for (boolean fast : new boolean[] {false, true}) {
            float[] dx = new float[len];
            float[] ds = new float[channels];
            float[] dz = new float[channels];
            if (fast) {
                FakeQuant.backward(x, 0, dy, 0, outer, channels, inner, s, z, n, p, g, dx, 0, ds, dz);
            } else {
                FakeQuant.backwardReference(x, 0, dy, 0, outer, channels, inner, s, z, n, p, g, dx, 0, ds, dz);
            }
            assertClose(expectDx, dx, 0, "straight-through dx, fast=" + fast);
            double tol = 1e-6 * len / channels + 1e-6;
            assertClose(expectDs, ds, tol, "LSQ scale gradient, fast=" + fast);
            assertClose(expectDz, dz, tol, "zero-point gradient, fast=" + fast);
        }
    }

    @Test
    void lsqScaleGradientIsFiniteDifferenceWithRoundingHeldFixed() {
        // In the clamped branches q = s*(n - z) or s*(p - z) exactly (no rounding involved), so a finite
        // difference of the true function must equal LSQ's n - z and p - z there.
        float[] x = {-10f, 10f};
        float[] s = {0.5f};
        float[] z = {3f};
        float[] dy = {1f, 1f};
        float[] ds = new float[1];
        float[] dz = new float[1];
        FakeQuant.backwardReference(x, 0, dy, 0, 1, 1, 2, s, z, 0, 15, 1f, null, 0, ds, dz);
        double fd = 0;
        double eps = 1e-4;
        for (float xi : x) {
            double up = (0.5 + eps) * (Math.min(Math.max(Math.rint(xi / (0.5 + eps)) + 3, 0), 15) - 3);
            double dn = (0.5 - eps) * (Math.min(Math.max(Math.rint(xi / (0.5 - eps)) + 3, 0), 15) - 3);
            fd += (up - dn) / (2 * eps);
        }
        assertEquals(fd, ds[0], 1e-3);
        assertEquals(-2 * 0.5, dz[0], 1e-6); // both clamped: -s each
    }

    @Test
    void adaRoundInitialisationSoftAndHardRounding() {
        SplittableRandom rnd = new SplittableRandom(61);
        int cout = 4;
        int inner = 27;
        int len = cout * inner;
        float[] w = uniform(rnd, len, -1, 1);
        float[] s = uniform(rnd, cout, 0.01, 0.05);
        float[] v = new float[len];
        AdaRound.initReference(w, 1, cout, inner, s, v);
        for (int i = 0; i < len; i++) {
            float ws = w[i] / s[i / inner];
            assertEquals(ws - Math.floor(ws), AdaRound.rectifiedSigmoid(v[i]), 1e-5, "h(V) = frac(W/s)");
        }
        float[] soft = new float[len];
        AdaRound.forwardReference(w, v, 1, cout, inner, s, null, -128, 127, soft);
        assertClose(w, soft, 1e-5, "soft-rounded weights start at W");
        float[] hard = new float[len];
        AdaRound.hardRoundReference(w, v, 1, cout, inner, s, null, -128, 127, hard);
        for (int i = 0; i < len; i++) {
            float si = s[i / inner];
            // V >= 0 exactly when frac >= 0.5 (h(0) = 0.5), so hard rounding at init is round-to-nearest
            assertEquals(si * Math.floor(w[i] / si + 0.5), hard[i], 1e-6);
        }
        assertEquals(1f, AdaRound.rectifiedSigmoid(50f));
        assertEquals(0f, AdaRound.rectifiedSigmoid(-50f));
    }

    @Test
    void adaRoundGradientsMatchFiniteDifferences() {
        SplittableRandom rnd = new SplittableRandom(62);
        int channels = 3;
        int inner = 10;
        int len = channels * inner;
        float[] w = uniform(rnd, len, -0.3, 0.3);
        float[] s = {0.05f, 0.02f, 0.1f};
        float[] z = {1f, 0f, -2f};
        float[] v = uniform(rnd, len, -2.5, 2.5);
        w[0] = 0.3f; // near the top of a 3-bit grid: exercises the flat clamp
        float n = -4;
        float p = 3;
        float[] r = uniform(rnd, len, -1, 1);
        float[] dv = new float[len];
        AdaRound.backwardReference(w, v, r, 1, channels, inner, s, z, n, p, dv);
        gradCheck(
                toDouble(v),
                vv -> {
                    double acc = 0;
                    for (int i = 0; i < len; i++) {
                        int c = i / inner;
                        double sig = 1 / (1 + Math.exp(-vv[i]));
                        double h = Math.min(Math.max(sig * 1.2 - 0.1, 0), 1);
                        double u = Math.floor(w[i] / s[c]) + z[c] + h;
                        acc += s[c] * (Math.min(Math.max(u, n), p) - z[c]) * r[i];
                    }
                    return acc;
                },
                dv,
                1e-3,
                len,
                1,
                "AdaRound dW~/dV");

        float beta = 3.5f;
        float lambda = 0.7f;
        float[] dreg = new float[len];
        AdaRound.regularizerBackward(v, 0, len, beta, lambda, dreg, 0);
        java.util.function.ToDoubleFunction<double[]> reg = vv -> {
            double acc = 0;
            for (double x : vv) {
                double sig = 1 / (1 + Math.exp(-x));
                double h = Math.min(Math.max(sig * 1.2 - 0.1, 0), 1);
                acc += 1 - Math.pow(Math.abs(2 * h - 1), beta);
            }
            return lambda * acc;
        };
        assertEquals(reg.applyAsDouble(toDouble(v)) / lambda, AdaRound.regularizer(v, 0, len, beta), 1e-4);
        gradCheck(toDouble(v), reg, dreg, 1e-3, len, 2, "regularizer");
    }

    @ParameterizedTest
    @CsvSource({"1,6,75", "2,3,40", "4,5,3"})
    void adaRoundVectorPathsMatchReference(int outer, int channels, int inner) {
        SplittableRandom rnd = new SplittableRandom(63);
        int len = outer * channels * inner;
        float[] w = uniform(rnd, len, -0.4, 0.4);
        float[] s = uniform(rnd, channels, 0.01, 0.08);
        float[] z = new float[channels];
        for (int c = 0; c < channels; c++) {
            z[c] = (float) Math.floor(rnd.nextDouble() * 4) - 2;
        }
        float[] v = uniform(rnd, len, -4, 4);
        v[0] = 0f; // h = 0.5: |2h-1| = 0, the regularizer's kink
        float[] dy = uniform(rnd, len, -1, 1);
        float[] yRef = new float[len];
        float[] yFast = new float[len];
        AdaRound.forwardReference(w, v, outer, channels, inner, s, z, -8, 7, yRef);
        AdaRound.forward(w, v, outer, channels, inner, s, z, -8, 7, yFast);
        assertClose(yRef, yFast, 1e-6, "soft rounding");
        for (float beta : new float[] {2f, 7.5f, 20f}) {
            float[] dRef = new float[len];
            AdaRound.backwardReference(w, v, dy, outer, channels, inner, s, z, -8, 7, dRef);
            AdaRound.regularizerBackward(v, 0, len, beta, 0.3f, dRef, 0);
            float[] dFast = new float[len];
            AdaRound.backward(w, v, dy, outer, channels, inner, s, z, -8, 7, beta, 0.3f, dFast);
            assertClose(dRef, dFast, 1e-4, "V gradient, beta " + beta);
        }
    }

    @Test
    void mseVectorPathMatchesReference() {
        SplittableRandom rnd = new SplittableRandom(64);
        int len = 1003;
        float[] a = uniform(rnd, len, -2, 2);
        float[] b = uniform(rnd, len, -2, 2);
        float[] d1 = new float[len];
        float[] d2 = new float[len];
        float l1 = Losses.mseReference(a, 0, b, 0, len, d1, 0, 0.5f);
        float l2 = Losses.mse(a, 0, b, 0, len, d2, 0, 0.5f);
        assertEquals(l1, l2, 1e-5 * l1);
        assertClose(d1, d2, 0, "mse gradient");
    }
}
