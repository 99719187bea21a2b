package io.tinyptq.plugins.optimize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The rounding search against the loss {@code Σ_n (x_n·w + b - y_n)^2} evaluated directly from the samples. */
class RoundingSearchTest {

    /** One neuron's problem: samples, targets, bias and each weight's two on-grid roundings. */
    record Problem(double[][] x, double[] y, double b, float[] down, float[] up) {
        int d() {
            return down.length;
        }

        double loss(boolean[] roundUp) {
            double sum = 0;
            for (int n = 0; n < x.length; n++) {
                double z = b - y[n];
                for (int j = 0; j < d(); j++) {
                    z += x[n][j] * (roundUp[j] ? up[j] : down[j]);
                }
                sum += z * z;
            }
            return sum;
        }

        double[] gram() {
            double[] h = new double[d() * d()];
            for (double[] row : x) {
                for (int i = 0; i < d(); i++) {
                    for (int j = 0; j < d(); j++) {
                        h[i * d() + j] += row[i] * row[j];
                    }
                }
            }
            return h;
        }

        /** {@code Σ_n x_n (x_n·w + b - y_n)}, half the gradient at {@code roundUp}. */
        double[] halfGradient(boolean[] roundUp) {
            double[] g = new double[d()];
            for (int n = 0; n < x.length; n++) {
                double z = b - y[n];
                for (int j = 0; j < d(); j++) {
                    z += x[n][j] * (roundUp[j] ? up[j] : down[j]);
                }
                for (int j = 0; j < d(); j++) {
                    g[j] += x[n][j] * z;
                }
            }
            return g;
        }

        boolean[] refine(boolean[] start, int sweeps) {
            boolean[] r = start.clone();
            RoundingSearch.refine(gram(), d(), halfGradient(r), down, up, r, sweeps);
            return r;
        }
    }

    /** Random 3-bit-like weights with step {@code s}: down = s k, up = s (k + 1), k in [-4, 2]. */
    static Problem random(long seed, int samples, int d) {
        SplittableRandom r = new SplittableRandom(seed);
        double[][] x = new double[samples][d];
        double[] y = new double[samples];
        for (int n = 0; n < samples; n++) {
            for (int j = 0; j < d; j++) {
                x[n][j] = r.nextDouble(-1, 1);
            }
            y[n] = r.nextDouble(-2, 2);
        }
        float[] down = new float[d];
        float[] up = new float[d];
        for (int j = 0; j < d; j++) {
            int k = r.nextInt(-4, 3);
            down[j] = 0.25f * k;
            up[j] = 0.25f * (k + 1);
        }
        return new Problem(x, y, 0.3, down, up);
    }

    static boolean[] randomRounding(long seed, int d) {
        SplittableRandom r = new SplittableRandom(seed);
        boolean[] b = new boolean[d];
        for (int j = 0; j < d; j++) {
            b[j] = r.nextBoolean();
        }
        return b;
    }

    @Test
    void endsWhereNoSingleFlipLowersTheLossAndNeverAboveItsStart() {
        for (long seed = 1; seed <= 5; seed++) {
            Problem p = random(seed, 40, 10);
            boolean[] start = randomRounding(seed + 100, p.d());
            boolean[] end = p.refine(start, 100);
            double loss = p.loss(end);
            assertTrue(loss <= p.loss(start), "seed " + seed + ": " + p.loss(start) + " -> " + loss);
            for (int j = 0; j < p.d(); j++) {
                boolean[] flipped = end.clone();
                flipped[j] = !flipped[j];
                assertTrue(
                        p.loss(flipped) >= loss * (1 - 1e-12),
                        "seed " + seed + ": flipping weight " + j + " still lowers the loss");
            }
        }
    }

    @Test
    void findsTheExhaustiveOptimumWhenTheInputsAreOrthogonal() {
        // Orthogonal input columns make H diagonal: the loss separates per weight, so coordinate descent reaches the
        // global optimum, here found by enumerating all 2^8 roundings.
        int d = 8;
        SplittableRandom r = new SplittableRandom(7);
        double[][] x = new double[2 * d][d];
        double[] y = new double[2 * d];
        for (int n = 0; n < 2 * d; n++) {
            x[n][n % d] = r.nextDouble(0.5, 2);
            y[n] = r.nextDouble(-1, 1);
        }
        Problem p =
                new Problem(x, y, 0.1, random(3, 1, d).down(), random(3, 1, d).up());
        double best = Double.MAX_VALUE;
        for (int mask = 0; mask < 1 << d; mask++) {
            boolean[] b = new boolean[d];
            for (int j = 0; j < d; j++) {
                b[j] = (mask >> j & 1) == 1;
            }
            best = Math.min(best, p.loss(b));
        }
        assertEquals(best, p.loss(p.refine(new boolean[d], 100)), 1e-12 * best);
    }

    @Test
    void aWeightWhoseRoundingsClampToOnePointNeverFlipsAndSweepsAreBounded() {
        Problem p = random(11, 30, 6);
        p.up()[2] = p.down()[2];
        boolean[] start = randomRounding(12, p.d());
        boolean[] end = p.refine(start, 100);
        assertEquals(start[2], end[2]);
        assertEquals(
                0, RoundingSearch.refine(p.gram(), p.d(), p.halfGradient(start), p.down(), p.up(), start.clone(), 0));
    }

    @Test
    void mismatchedSizesAreNamed() {
        var e = assertThrows(
                IllegalArgumentException.class,
                () -> RoundingSearch.refine(
                        new double[9], 3, new double[2], new float[3], new float[3], new boolean[3], 1));
        assertTrue(e.getMessage().contains("3 weights") && e.getMessage().contains("3x3"), e.getMessage());
    }
}
