package io.tinyptq.backend.cpu.kernels;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.SplittableRandom;
import java.util.function.ToDoubleFunction;

/** Seeded test data, tolerance-aware comparisons and central finite differences in double precision. */
final class TestData {
    private TestData() {}

    static float[] uniform(SplittableRandom rnd, int n, double lo, double hi) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (lo + (hi - lo) * rnd.nextDouble());
        }
        return a;
    }

    static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = a[i];
        }
        return d;
    }

    static void assertClose(double[] expected, float[] actual, double tol, String what) {
        assertClose(expected, actual, expected.length, tol, what);
    }

    static void assertClose(double[] expected, float[] actual, int len, double tol, String what) {
        for (int i = 0; i < len; i++) {
            if (!(Math.abs(expected[i] - actual[i]) <= tol * (1 + Math.abs(expected[i])))) {
                fail(what + ": element " + i + " expected " + expected[i] + " got " + actual[i] + " (tol " + tol + ")");
            }
        }
    }

    static void assertClose(float[] expected, float[] actual, double tol, String what) {
        assertClose(toDouble(expected), actual, expected.length, tol, what);
    }

    /**
     * Checks {@code analytic} against central differences of {@code loss} (evaluated in double) with respect to
     * {@code point}, at up to {@code maxChecks} seeded positions.
     */
    static void gradCheck(
            double[] point,
            ToDoubleFunction<double[]> loss,
            float[] analytic,
            double tol,
            int maxChecks,
            long seed,
            String what) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int checks = Math.min(maxChecks, point.length);
        double eps = 1e-3;
        for (int k = 0; k < checks; k++) {
            int i = checks == point.length ? k : rnd.nextInt(point.length);
            double saved = point[i];
            point[i] = saved + eps;
            double up = loss.applyAsDouble(point);
            point[i] = saved - eps;
            double down = loss.applyAsDouble(point);
            point[i] = saved;
            double fd = (up - down) / (2 * eps);
            if (!(Math.abs(fd - analytic[i]) <= tol * (1 + Math.abs(fd)))) {
                fail(what + ": d/d[" + i + "] finite difference " + fd + " vs analytic " + analytic[i] + " (tol " + tol
                        + ")");
            }
        }
    }

    static double dot(double[] a, float[] r) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * r[i];
        }
        return s;
    }
}
