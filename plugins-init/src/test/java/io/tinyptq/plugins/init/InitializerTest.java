package io.tinyptq.plugins.init;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyptq.api.model.Shape;
import io.tinyptq.api.model.Tensor;
import io.tinyptq.api.options.NoOptions;
import io.tinyptq.api.quant.FakeQuant;
import io.tinyptq.api.quant.IntegerGrid;
import io.tinyptq.api.quant.QuantParams;
import io.tinyptq.api.quant.QuantizerSpec;
import io.tinyptq.api.spi.ActivationObserver;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class InitializerTest {
    private final MinMaxInitializer minmax = new MinMaxInitializer();
    private final MseInitializer mse = new MseInitializer();

    /** Gaussian values with a few large outliers, the case where MSE should beat MinMax. */
    static float[] heavyTailed(long seed, int n) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            double u = 1 - r.nextDouble();
            v[i] = (float) (Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r.nextDouble()));
        }
        v[3] = 12f;
        v[n / 2] = -9f;
        return v;
    }

    static double sse(float[] x, float s, float z, IntegerGrid g) {
        return normError(x, s, z, g, 2);
    }

    /** {@code sum |x - q(x)|^p}, directly. */
    static double normError(float[] x, float s, float z, IntegerGrid g, double p) {
        double e = 0;
        for (float v : x) {
            e += Math.pow(Math.abs(v - FakeQuant.quantize(v, s, z, g)), p);
        }
        return e;
    }

    @Test
    void minmaxPerChannelMatchesTheDirectFormula() {
        // [2 out channels, 3 in] conv-like weight, per channel along axis 0.
        Tensor w = new Tensor(Shape.of(2, 3), new float[] {0.5f, -2f, 1f, 3f, 0.25f, -1f});
        QuantParams p = minmax.initWeights(w, QuantizerSpec.weights(4, 0), NoOptions.INSTANCE);
        assertArrayEquals(new float[] {2f / 7f, 3f / 7f}, p.scale(), 1e-7f);
        assertArrayEquals(new float[] {0f, 0f}, p.zeroPoint());
    }

    @Test
    void minmaxObserverStreamsTheRange() {
        ActivationObserver o = minmax.newObserver(QuantizerSpec.activations(8), NoOptions.INSTANCE);
        o.observe(new float[] {9f, 0.5f, 1f, 2f}, 1, 2);
        o.observe(new float[] {-1f, 3f}, 0, 2);
        float[] sz = FakeQuant.asymmetricFromRange(-1f, 3f, IntegerGrid.unsigned(8));
        assertEquals(new QuantParams(new float[] {sz[0]}, new float[] {sz[1]}), o.result());
    }

    @Test
    void mseWeightsBeatMinMaxAndMatchABruteForceSearch() {
        float[] x = heavyTailed(1, 4000);
        Tensor t = new Tensor(Shape.of(x.length), x);
        QuantizerSpec spec = new QuantizerSpec(
                4, io.tinyptq.api.quant.Symmetry.SYMMETRIC, io.tinyptq.api.quant.Granularity.PER_TENSOR, -1);
        IntegerGrid g = spec.grid();
        QuantParams m = mse.initWeights(t, spec, mse.defaultOptions());
        QuantParams mm = minmax.initWeights(t, spec, NoOptions.INSTANCE);
        double eMse = sse(x, m.scale(0), 0f, g);
        double eMinMax = sse(x, mm.scale(0), 0f, g);
        assertTrue(eMse < 0.5 * eMinMax, "mse " + eMse + " vs minmax " + eMinMax);
        // Independent brute force: 20,000 clipping values on a uniform grid.
        double best = Double.POSITIVE_INFINITY;
        for (int k = 1; k <= 20000; k++) {
            best = Math.min(best, sse(x, FakeQuant.symmetricScale(12f * k / 20000f, g), 0f, g));
        }
        assertTrue(eMse <= best * 1.01, "mse " + eMse + " vs brute force " + best);
    }

    @Test
    void aHigherNormMatchesItsBruteForceSearchAndClipsLess() {
        float[] x = heavyTailed(3, 4000);
        Tensor t = new Tensor(Shape.of(x.length), x);
        QuantizerSpec spec = new QuantizerSpec(
                3, io.tinyptq.api.quant.Symmetry.SYMMETRIC, io.tinyptq.api.quant.Granularity.PER_TENSOR, -1);
        IntegerGrid g = spec.grid();
        var d = mse.defaultOptions();
        QuantParams p2 = mse.initWeights(t, spec, d);
        QuantParams p3 =
                mse.initWeights(t, spec, new MseInitializer.Options(d.candidates(), d.refineSteps(), d.bins(), 3));
        assertTrue(p3.scale(0) > p2.scale(0), "p = 3 scale " + p3.scale(0) + " vs p = 2 scale " + p2.scale(0));
        // Independent brute force of sum |x - q(x)|^3 over 20,000 clipping values.
        double best = Double.POSITIVE_INFINITY;
        double max = 0;
        for (float v : x) {
            max = Math.max(max, Math.abs(v));
        }
        for (int k = 1; k <= 20000; k++) {
            best = Math.min(best, normError(x, FakeQuant.symmetricScale((float) (max * k / 20000), g), 0f, g, 3));
        }
        double found = normError(x, p3.scale(0), 0f, g, 3);
        assertTrue(found <= best * 1.01, "p = 3 search " + found + " vs brute force " + best);
    }

    @Test
    void mseActivationsFromTheHistogramApproachTheExactSearch() {
        float[] x = heavyTailed(2, 20000);
        for (int i = 0; i < x.length; i++) {
            x[i] = Math.max(x[i], 0f) + 0.1f * (i % 7);
        }
        QuantizerSpec spec = QuantizerSpec.activations(4);
        ActivationObserver o = mse.newObserver(spec, mse.defaultOptions());
        for (int off = 0; off < x.length; off += 1000) {
            o.observe(x, off, 1000);
        }
        QuantParams streamed = o.result();
        float[] exact = RangeSearch.search(RangeSearch.Sample.of(x), spec, 100, 20);
        IntegerGrid g = spec.grid();
        double eStreamed = sse(x, streamed.scale(0), streamed.zeroPoint(0), g);
        double eExact = sse(x, exact[0], exact[1], g);
        assertTrue(eStreamed <= eExact * 1.02, "streamed " + eStreamed + " vs exact " + eExact);
    }

    @Test
    void histogramGrowsExactlyAndKeepsEveryValue() {
        StreamingHistogram h = new StreamingHistogram(8);
        h.add(new float[] {0f, 1f}, 0, 2);
        h.add(new float[] {5f, -3f, 0.5f}, 0, 3);
        RangeSearch.Sample s = h.sample();
        double total = 0;
        for (double w : s.weights()) {
            total += w;
        }
        assertEquals(5, total);
        assertEquals(-3f, h.min());
        assertEquals(5f, h.max());
    }

    @Test
    void allZeroTensorGetsTheSmallestScaleAndZeroPointZero() {
        // Every channel's range is [0, 0]: the symmetric scale max|x| / p = 0 is floored at FakeQuant.MIN_SCALE
        // = 1e-8 (x / s stays finite), and z = 0; the asymmetric one has s = max((0 - 0) / levels, 1e-8) and
        // z = rint(-0 / s) + n = 0 on the unsigned grid. Either way every zero quantizes to exactly 0.
        Tensor zeros = Tensor.zeros(Shape.of(3, 2));
        for (QuantParams p : new QuantParams[] {
            mse.initWeights(zeros, QuantizerSpec.weights(4, 0), mse.defaultOptions()),
            minmax.initWeights(zeros, QuantizerSpec.weights(4, 0), NoOptions.INSTANCE)
        }) {
            assertEquals(3, p.channels());
            for (int c = 0; c < 3; c++) {
                assertEquals(1e-8f, p.scale(c), 0f, "scale of channel " + c);
                assertEquals(0f, p.zeroPoint(c), 0f, "zero point of channel " + c);
            }
        }
        ActivationObserver o = mse.newObserver(QuantizerSpec.activations(8), mse.defaultOptions());
        o.observe(new float[6], 0, 6);
        assertEquals(new QuantParams(new float[] {1e-8f}, new float[] {0f}), o.result());
    }
}
