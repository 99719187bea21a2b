package io.tinyptq.backend.cpu.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/**
 * The convolution rounding search against the loss {@code Σ (a(conv(x, w) + b) - t)^2} computed directly, in double,
 * from the unpadded NHWC input by a textbook convolution loop.
 */
class ConvRoundingSearchTest {

    /** One output channel's problem on an NHWC input: its weights' two roundings, bias, targets and activation. */
    record Problem(ConvRoundingSearch.Geometry g, float[] nhwc, float[] t, float bias, float[] down, float[] up,
                   float lo, float hi) {

        /** Direct pre-activation of output {@code (n, oy, ox)}. */
        double z(boolean[] roundUp, int n, int oy, int ox) {
            double z = bias;
            for (int ky = 0; ky < g.kh(); ky++) {
                int y = oy * g.strideH() + ky - g.padTop();
                for (int kx = 0; kx < g.kw(); kx++) {
                    int x = ox * g.strideW() + kx - g.padLeft();
                    if (y < 0 || y >= g.inH() || x < 0 || x >= g.inW()) {
                        continue;
                    }
                    for (int c = 0; c < g.inC(); c++) {
                        int j = (ky * g.kw() + kx) * g.inC() + c;
                        z += (double) (roundUp[j] ? up[j] : down[j]) * nhwc[((n * g.inH() + y) * g.inW() + x) * g.inC() + c];
                    }
                }
            }
            return z;
        }

        double loss(boolean[] roundUp) {
            double sum = 0;
            for (int n = 0; n < g.samples(); n++) {
                for (int oy = 0; oy < g.outH(); oy++) {
                    for (int ox = 0; ox < g.outW(); ox++) {
                        double a = Math.min(Math.max(z(roundUp, n, oy, ox), lo), hi);
                        double d = a - t[(n * g.outH() + oy) * g.outW() + ox];
                        sum += d * d;
                    }
                }
            }
            return sum;
        }

        float[] split() {
            float[] x = new float[(int) (g.samples() * g.splitSize())];
            ConvRoundingSearch.split(nhwc, g.samples(), 0, g, x);
            return x;
        }

        /** Runs the kernel from {@code start}: pre-activation, residuals, search; returns the final rounding. */
        boolean[] refine(boolean[] start, int sweeps, float[] zOut, float[] eOut) {
            boolean[] r = start.clone();
            float[] x = split();
            float[] w = new float[down.length];
            for (int j = 0; j < w.length; j++) {
                w[j] = r[j] ? up[j] : down[j];
            }
            ConvRoundingSearch.preActivation(x, g, w, bias, zOut);
            for (int i = 0; i < zOut.length; i++) {
                eOut[i] = Math.min(Math.max(zOut[i], lo), hi) - t[i];
            }
            ConvRoundingSearch.refine(x, g, zOut, eOut, lo, hi, down, up, r, sweeps);
            return r;
        }
    }

    /**
     * A random problem whose targets come from an off-grid weight (so the best rounding is not trivial), with a
     * 3-bit grid of step {@code s} and some weights clamped at the grid's ends.
     */
    static Problem problem(long seed, int n, int h, int w, int c, int k, int stride, int pad, String act) {
        SplittableRandom r = new SplittableRandom(seed);
        int outH = (h + 2 * pad - k) / stride + 1;
        int outW = (w + 2 * pad - k) / stride + 1;
        var g = new ConvRoundingSearch.Geometry(n, h, w, c, k, k, stride, stride, pad, pad, outH, outW);
        float[] nhwc = new float[n * h * w * c];
        for (int i = 0; i < nhwc.length; i++) {
            // Like a quantized post-ReLU activation: a third zeros, the rest on a grid.
            nhwc[i] = r.nextInt(3) == 0 ? 0f : 0.25f * r.nextInt(1, 8);
        }
        int d = g.fanIn();
        float s = 0.1f;
        float[] fpW = new float[d];
        float[] down = new float[d];
        float[] up = new float[d];
        for (int j = 0; j < d; j++) {
            fpW[j] = (float) (r.nextGaussian() * 0.2);
            float floor = (float) Math.floor(fpW[j] / s);
            down[j] = s * Math.min(Math.max(floor, -4), 3);
            up[j] = s * Math.min(Math.max(floor + 1, -4), 3);
        }
        float lo = act.equals("none") ? Float.NEGATIVE_INFINITY : 0f;
        float hi = act.equals("relu6") ? 1.5f : Float.POSITIVE_INFINITY;
        float bias = 0.05f;
        Problem fp = new Problem(g, nhwc, new float[g.channelSize()], bias, fpW, fpW, lo, hi);
        boolean[] any = new boolean[d];
        float[] t = new float[g.channelSize()];
        for (int m = 0; m < n; m++) {
            for (int oy = 0; oy < outH; oy++) {
                for (int ox = 0; ox < outW; ox++) {
                    double z = fp.z(any, m, oy, ox) + 0.05 * r.nextGaussian();
                    t[(m * outH + oy) * outW + ox] = (float) Math.min(Math.max(z, lo), hi);
                }
            }
        }
        return new Problem(g, nhwc, t, bias, down, up, lo, hi);
    }

    /** A fixed starting rounding: every third weight up. */
    static boolean[] pattern(Problem p) {
        boolean[] r = new boolean[p.down().length];
        for (int j = 0; j < r.length; j++) {
            r[j] = j % 3 == 0;
        }
        return r;
    }

    @ParameterizedTest(name = "{0}x{1}x{2}x{3}, k{4} stride {5} pad {6}, {7}")
    @CsvSource({
            "5, 6, 7, 3, 3, 1, 1, relu",
            "4, 9, 20, 2, 3, 1, 1, relu",   // rows of 20: a full vector and a masked tail under 16 lanes
            "4, 9, 11, 3, 3, 2, 1, relu6",  // stride 2: the phase-split layout
            "3, 8, 8, 4, 1, 2, 0, none",    // 1x1 stride-2 shortcut without activation
            "3, 7, 36, 2, 3, 1, 0, none"})
    void endsAtALocalOptimumNeverWorseAndKeepsItsStateExact(int n, int h, int w, int c, int k, int stride, int pad,
                                                            String act) {
        Problem p = problem(31 * h + w, n, h, w, c, k, stride, pad, act);
        boolean[] start = pattern(p);
        float[] z = new float[p.g().channelSize()];
        float[] e = new float[p.g().channelSize()];
        boolean[] r = p.refine(start, 100, z, e);
        double before = p.loss(start);
        double after = p.loss(r);
        assertTrue(after < before, "loss " + before + " -> " + after);
        // No single flip lowers the directly computed loss (beyond the search's float tolerance).
        for (int j = 0; j < r.length; j++) {
            if (p.down()[j] == p.up()[j]) {
                assertEquals(start[j], r[j], "weight " + j + " has one grid value and must not flip");
                continue;
            }
            boolean[] flipped = r.clone();
            flipped[j] = !flipped[j];
            assertTrue(p.loss(flipped) >= after * (1 - 1e-5), "flipping weight " + j + " lowers " + after);
        }
        // The kernel's running pre-activations and residuals equal the direct ones at its final rounding.
        for (int m = 0; m < n; m++) {
            for (int oy = 0; oy < p.g().outH(); oy++) {
                for (int ox = 0; ox < p.g().outW(); ox++) {
                    int i = (m * p.g().outH() + oy) * p.g().outW() + ox;
                    double zd = p.z(r, m, oy, ox);
                    assertEquals(zd, z[i], 1e-4, "pre-activation " + i);
                    assertEquals(Math.min(Math.max(zd, p.lo()), p.hi()) - p.t()[i], e[i], 1e-4, "residual " + i);
                }
            }
        }
    }

    @Test
    void splitPutsEveryPaddedPositionWhereTheKernelReadsIt() {
        Problem p = problem(7, 2, 5, 6, 3, 3, 2, 1, "relu");
        var g = p.g();
        float[] x = p.split();
        // The phase-split row of (n, c, ky, kx, oy) holds the inputs at (oy*stride + ky - pad, ox*stride + kx - pad).
        for (int n = 0; n < g.samples(); n++) {
            for (int c = 0; c < g.inC(); c++) {
                for (int ky = 0; ky < g.kh(); ky++) {
                    for (int kx = 0; kx < g.kw(); kx++) {
                        for (int oy = 0; oy < g.outH(); oy++) {
                            for (int ox = 0; ox < g.outW(); ox++) {
                                int y = oy * g.strideH() + ky - g.padTop();
                                int xx = ox * g.strideW() + kx - g.padLeft();
                                float want = y < 0 || y >= g.inH() || xx < 0 || xx >= g.inW() ? 0f
                                        : p.nhwc()[((n * g.inH() + y) * g.inW() + xx) * g.inC() + c];
                                assertEquals(want, x[g.row(n, c, ky, kx, oy) + ox]);
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void aFlatRoundingIsLeftAlone() {
        // Targets from the current rounding itself: no flip can lower a zero loss.
        Problem p = problem(3, 3, 6, 6, 2, 3, 1, 1, "relu");
        boolean[] start = pattern(p);
        float[] z = new float[p.g().channelSize()];
        float[] e = new float[p.g().channelSize()];
        float[] t = new float[z.length];
        for (int m = 0; m < p.g().samples(); m++) {
            for (int oy = 0; oy < p.g().outH(); oy++) {
                for (int ox = 0; ox < p.g().outW(); ox++) {
                    t[(m * p.g().outH() + oy) * p.g().outW() + ox] = (float) Math.max(p.z(start, m, oy, ox), 0);
                }
            }
        }
        Problem exact = new Problem(p.g(), p.nhwc(), t, p.bias(), p.down(), p.up(), p.lo(), p.hi());
        assertEquals(java.util.Arrays.toString(start), java.util.Arrays.toString(exact.refine(start, 10, z, e)));
    }

    /** {@code Σ (a(b + f (z - b)) - t)^2} in double, straight from the definition. */
    static double scaledLoss(float[] z, float[] t, float b, float lo, float hi, double f) {
        double sum = 0;
        for (int i = 0; i < z.length; i++) {
            double d = Math.min(Math.max(b + f * (z[i] - b), lo), hi) - t[i];
            sum += d * d;
        }
        return sum;
    }

    /** The factor in {@code [0.75, 1.25]} with the lowest {@link #scaledLoss}, by enumeration at a spacing of 1e-5. */
    static double bruteForceFactor(float[] z, float[] t, float b, float lo, float hi) {
        double best = 1;
        double bestLoss = scaledLoss(z, t, b, lo, hi, 1);
        for (int k = 0; k <= 50000; k++) {
            double f = 0.75 + k * 1e-5;
            double l = scaledLoss(z, t, b, lo, hi, f);
            if (l < bestLoss) {
                bestLoss = l;
                best = f;
            }
        }
        return best;
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"relu", "relu6", "none"})
    void scaleRefitFindsTheBestFactorForTheKeptCodes(String act) {
        Problem p = problem(5, 4, 8, 9, 3, 3, 1, 1, act);
        float[] z = new float[p.g().channelSize()];
        float[] e = new float[p.g().channelSize()];
        p.refine(pattern(p), 100, z, e);
        // Targets from the same codes at 1.1 times the step, plus noise: the best factor is near 1.1, not exactly.
        SplittableRandom r = new SplittableRandom(9);
        float[] t = new float[z.length];
        for (int i = 0; i < z.length; i++) {
            t[i] = (float) Math.min(Math.max(p.bias() + 1.1 * (z[i] - p.bias()) + 0.02 * r.nextGaussian(), p.lo()),
                    p.hi());
            e[i] = Math.min(Math.max(z[i], p.lo()), p.hi()) - t[i];
        }
        float[] z0 = z.clone();
        double f = ConvRoundingSearch.refitScale(z, e, z.length, p.bias(), p.lo(), p.hi(), 0.25);
        double best = bruteForceFactor(z0, t, p.bias(), p.lo(), p.hi());
        if (act.equals("none")) {
            // Without activation L(f) = Σ (f d_i - (t_i - b))^2 with d_i = z_i - b, a parabola: the 1-D least-squares
            // step f* = Σ d_i (t_i - b) / Σ d_i^2.
            double dt = 0;
            double dd = 0;
            for (int i = 0; i < z0.length; i++) {
                dt += ((double) z0[i] - p.bias()) * ((double) t[i] - p.bias());
                dd += ((double) z0[i] - p.bias()) * ((double) z0[i] - p.bias());
            }
            assertEquals(dt / dd, best, 1e-5, "enumeration vs least squares");
            best = dt / dd;
        }
        assertTrue(Math.abs(best - 1.1) > 1e-4 && Math.abs(best - 1.1) < 0.02, "noise moves the optimum a little: " + best);
        // The golden section ends on a bracket 2 * 0.025 * 0.618^12 = 1.6e-4 wide around the optimum.
        assertEquals(best, f, 1.7e-4, "refit factor");
        double at = scaledLoss(z0, t, p.bias(), p.lo(), p.hi(), best);
        assertTrue(scaledLoss(z0, t, p.bias(), p.lo(), p.hi(), f) <= at * (1 + 1e-4), "loss at " + f + " vs " + at);
        // z and e now describe the scaled step.
        for (int i = 0; i < z.length; i++) {
            assertEquals(p.bias() + f * (z0[i] - p.bias()), z[i], 1e-5, "pre-activation " + i);
            assertEquals(Math.min(Math.max(z[i], p.lo()), p.hi()) - t[i], e[i], 1e-5, "residual " + i);
        }
    }

    @Test
    void scaleRefitKeepsAStepThatIsAlreadyBest() {
        Problem p = problem(6, 3, 6, 6, 2, 3, 1, 1, "relu");
        float[] z = new float[p.g().channelSize()];
        float[] e = new float[p.g().channelSize()];
        p.refine(pattern(p), 100, z, e);
        // Residual noise orthogonal to d = z - b over the active outputs (z > 0) and zero elsewhere: then
        // dL/df = 2 Σ_active d_i e_i = 0 at f = 1 and L(f) - L(1) = (f - 1)^2 Σ_active d_i^2 while no output
        // changes side, so the current step is the best. The enumeration below confirms it on [0.75, 1.25].
        SplittableRandom r = new SplittableRandom(10);
        double[] noise = new double[z.length];
        double dn = 0;
        double dd = 0;
        for (int i = 0; i < z.length; i++) {
            if (z[i] > 0) {
                noise[i] = 0.01 * r.nextGaussian();
                dn += (z[i] - p.bias()) * noise[i];
                dd += (double) (z[i] - p.bias()) * (z[i] - p.bias());
            }
        }
        float[] t = new float[z.length];
        for (int i = 0; i < z.length; i++) {
            e[i] = z[i] > 0 ? (float) (noise[i] - dn / dd * (z[i] - p.bias())) : 0f;
            t[i] = Math.max(z[i], 0f) - e[i];
        }
        assertEquals(1.0, bruteForceFactor(z, t, p.bias(), 0f, Float.POSITIVE_INFINITY), 1e-5);
        float[] zBefore = z.clone();
        float[] eBefore = e.clone();
        double f = ConvRoundingSearch.refitScale(z, e, z.length, p.bias(), 0f, Float.POSITIVE_INFINITY, 0.25);
        assertEquals(1.0, f, 0.0, "factor");
        assertArrayEquals(zBefore, z, "pre-activations");
        assertArrayEquals(eBefore, e, "residuals");
        assertThrows(IllegalArgumentException.class,
                () -> ConvRoundingSearch.refitScale(z, e, z.length, 0f, 0f, 1f, 1.5));
    }

    @Test
    void wrongSizesAreRejectedNamingThem() {
        var g = new ConvRoundingSearch.Geometry(2, 4, 4, 3, 3, 3, 1, 1, 1, 1, 4, 4);
        float[] x = new float[(int) (2 * g.splitSize())];
        float[] z = new float[g.channelSize()];
        var e = assertThrows(IllegalArgumentException.class, () -> ConvRoundingSearch.refine(x, g, z, z,
                0f, Float.POSITIVE_INFINITY, new float[26], new float[27], new boolean[27], 1));
        assertTrue(e.getMessage().contains("27 weights"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ConvRoundingSearch.refine(new float[3], g, z, z, 0f, 1f,
                new float[27], new float[27], new boolean[27], 1));
        assertThrows(IllegalArgumentException.class,
                () -> new ConvRoundingSearch.Geometry(2, 4, 4, 3, 3, 3, 0, 1, 1, 1, 4, 4));
    }
}
