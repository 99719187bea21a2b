package io.tinyptq.plugins.init;

import io.tinyptq.api.quant.FakeQuant;
import io.tinyptq.api.quant.IntegerGrid;
import io.tinyptq.api.quant.QuantizerSpec;
import io.tinyptq.api.quant.Symmetry;
import java.util.function.DoubleUnaryOperator;

/**
 * MSE range search (Zhuo et al. 2022, Sec. 3.2, step 2): the clipping range {@code [alpha, beta]} minimizing
 * {@code sum_i w_i |x_i - q(x_i)|^p} (p = 2: the MSE), where {@code q} uses the scale and zero-point Eq. 2 derives
 * from the range. A norm above 2 weighs the few large clipping errors more against the many rounding errors, so
 * the range it picks clips less (BRECQ initializes weights with p = 2.4).
 *
 * <p>Candidates shrink the observed range {@code [min, max]} (widened to contain 0) by a factor
 * {@code t = k/N, k = 1..N}: for symmetric quantizers the range is {@code [-t*m, t*m]} with {@code m = max|x|};
 * for asymmetric ones {@code [t*min, t*max]}. The best grid point is then refined by golden-section search on
 * the interval between its neighbours; for asymmetric quantizers each end is refined in turn, since outliers
 * often sit on one side only. The error is a piecewise-smooth function of the range (rounding makes it jagged
 * at the scale of one step), so the grid finds the basin and the refinement its bottom.
 */
final class RangeSearch {
    /** Values with weights (1 for weights; bin counts for activation histograms). */
    record Sample(float[] values, double[] weights) {
        static Sample of(float[] values) {
            return new Sample(values, null);
        }
    }

    private static final double GOLDEN = (Math.sqrt(5) - 1) / 2;

    private RangeSearch() {}

    /** Returns {@code {s, z}} for the best range found. */
    static float[] search(Sample x, QuantizerSpec spec, int candidates, int refineSteps) {
        return search(x, spec, candidates, refineSteps, 2);
    }

    /** Returns {@code {s, z}} for the range minimizing the error in the {@code p}-norm. */
    static float[] search(Sample x, QuantizerSpec spec, int candidates, int refineSteps, double p) {
        float min = 0f;
        float max = 0f;
        for (float v : x.values()) {
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        final float lo = min;
        final float hi = max;
        if (lo == 0f && hi == 0f) {
            return FakeQuant.fromRange(0f, 0f, spec);
        }
        IntegerGrid g = spec.grid();
        if (spec.symmetry() == Symmetry.SYMMETRIC) {
            float m = Math.max(-lo, hi);
            double best = scan(t -> errorSym(x, m * t, g, p), candidates);
            double t = refine(u -> errorSym(x, m * u, g, p), best, 1.0 / candidates, refineSteps);
            return new float[] {FakeQuant.symmetricScale((float) (m * t), g), 0f};
        }
        double tBoth = scan(t -> errorAsym(x, lo * t, hi * t, g, p), candidates);
        double step = 1.0 / candidates;
        double tLo = refine(u -> errorAsym(x, lo * u, hi * tBoth, g, p), tBoth, step, refineSteps);
        double tHi = refine(u -> errorAsym(x, lo * tLo, hi * u, g, p), tBoth, step, refineSteps);
        return FakeQuant.asymmetricFromRange((float) (lo * tLo), (float) (hi * tHi), g);
    }

    private static double scan(DoubleUnaryOperator error, int candidates) {
        double bestT = 1;
        double bestE = Double.POSITIVE_INFINITY;
        for (int k = candidates; k >= 1; k--) {
            double t = (double) k / candidates;
            double e = error.applyAsDouble(t);
            if (e < bestE) {
                bestE = e;
                bestT = t;
            }
        }
        return bestT;
    }

    /** Golden-section search of {@code error} on {@code [t - step, min(1, t + step)]}, keeping the best value seen. */
    private static double refine(DoubleUnaryOperator error, double t, double step, int steps) {
        double a = Math.max(t - step, 1e-6);
        double b = Math.min(t + step, 1.0);
        double bestT = t;
        double bestE = error.applyAsDouble(t);
        double c = b - GOLDEN * (b - a);
        double d = a + GOLDEN * (b - a);
        double ec = error.applyAsDouble(c);
        double ed = error.applyAsDouble(d);
        for (int i = 0; i < steps; i++) {
            if (ec < ed) {
                b = d;
                d = c;
                ed = ec;
                c = b - GOLDEN * (b - a);
                ec = error.applyAsDouble(c);
            } else {
                a = c;
                c = d;
                ec = ed;
                d = a + GOLDEN * (b - a);
                ed = error.applyAsDouble(d);
            }
            if (ec < bestE) {
                bestE = ec;
                bestT = c;
            }
            if (ed < bestE) {
                bestE = ed;
                bestT = d;
            }
        }
        return bestT;
    }

    static double errorSym(Sample x, double clip, IntegerGrid g, double p) {
        float s = FakeQuant.symmetricScale((float) clip, g);
        return error(x, s, 0f, g, p);
    }

    static double errorAsym(Sample x, double alpha, double beta, IntegerGrid g, double p) {
        float[] sz = FakeQuant.asymmetricFromRange((float) alpha, (float) beta, g);
        return error(x, sz[0], sz[1], g, p);
    }

    /** {@code sum_i w_i |x_i - q(x_i; s, z)|^p} with q from Eq. 1. */
    static double error(Sample x, float s, float z, IntegerGrid g, double p) {
        float[] v = x.values();
        double[] w = x.weights();
        double sum = 0;
        for (int i = 0; i < v.length; i++) {
            double d = Math.abs(v[i] - FakeQuant.quantize(v[i], s, z, g));
            sum += (w == null ? 1 : w[i]) * (p == 2 ? d * d : Math.pow(d, p));
        }
        return sum;
    }
}
