package io.tinyptq.backend.cpu.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyptq.backend.cpu.engine.Graph.Padding;
import io.tinyptq.backend.cpu.kernels.Parallel;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class GraphTest {
    private static final Parallel TWO = new Parallel(2);

    @AfterAll
    static void close() {
        TWO.close();
    }

    static float[] init(SplittableRandom rnd, int n, int fanIn) {
        float[] a = new float[n];
        double bound = Math.sqrt(6.0 / fanIn); // He-uniform for ReLU networks
        for (int i = 0; i < n; i++) {
            a[i] = (float) ((rnd.nextDouble() * 2 - 1) * bound);
        }
        return a;
    }

    /** Two interleaved spirals (3 arms, 3 classes): not linearly separable, learnable by a small MLP. */
    @Test
    void mlpLearnsSpiralsWithAdamCrossEntropyAndShuffling() {
        int classes = 3;
        int perClass = 200;
        int count = classes * perClass;
        SplittableRandom rnd = new SplittableRandom(2024);
        float[] xs = new float[count * 2];
        int[] ys = new int[count];
        for (int c = 0; c < classes; c++) {
            for (int i = 0; i < perClass; i++) {
                double r = (i + 1.0) / perClass;
                double t = c * 2 * Math.PI / classes + 2.5 * r + rnd.nextGaussian() * 0.08;
                int k = c * perClass + i;
                xs[2 * k] = (float) (r * Math.cos(t));
                xs[2 * k + 1] = (float) (r * Math.sin(t));
                ys[k] = c;
            }
        }
        int batch = 32;
        Graph g = new Graph(batch, TWO);
        Value x = g.input("x", 2);
        Value h1 = g.relu(g.dense(
                x, g.use(g.param("w1", init(rnd, 64 * 2, 2), 64, 2)), g.use(g.param("b1", new float[64], 64))));
        Value h2 = g.relu(g.dense(
                h1, g.use(g.param("w2", init(rnd, 64 * 64, 64), 64, 64)), g.use(g.param("b2", new float[64], 64))));
        Value logits = g.dense(
                h2,
                g.use(g.param("w3", init(rnd, classes * 64, 64), classes, 64)),
                g.use(g.param("b3", new float[classes], classes)));
        Value loss = g.crossEntropy(logits);
        g.minimize(loss, 1f);
        Adam adam = new Adam(g.trainableParams(), 0.01f);
        Batches batches = new Batches(count, 7);
        int[] labels = g.labels(loss);
        float firstLoss = Float.NaN;
        for (int epoch = 0; epoch < 60; epoch++) {
            int[] order = batches.nextEpoch();
            for (int from = 0; from < count; from += batch) {
                int n = Math.min(batch, count - from);
                Batches.gather(xs, 2, order, from, n, x.data());
                Batches.gather(ys, order, from, n, labels);
                g.zeroGrad();
                g.forward(n);
                if (Float.isNaN(firstLoss)) {
                    firstLoss = g.loss();
                }
                g.backward();
                adam.step();
            }
        }
        int correct = 0;
        for (int from = 0; from < count; from += batch) {
            int n = Math.min(batch, count - from);
            System.arraycopy(xs, from * 2, x.data(), 0, n * 2);
            System.arraycopy(ys, from, labels, 0, n);
            g.forward(n);
            for (int i = 0; i < n; i++) {
                int best = 0;
                for (int c = 1; c < classes; c++) {
                    if (logits.data()[i * classes + c] > logits.data()[i * classes + best]) {
                        best = c;
                    }
                }
                correct += best == ys[from + i] ? 1 : 0;
            }
        }
        double accuracy = correct / (double) count;
        assertTrue(accuracy >= 0.95, "accuracy " + accuracy + " (first loss " + firstLoss + ")");
    }

    /** Horizontal vs vertical bars in 8x8 noisy images, through conv -> ReLU -> depthwise -> mean -> dense. */
    @Test
    void tinyConvNetLearnsBarOrientation() {
        int count = 256;
        int hw = 8;
        SplittableRandom rnd = new SplittableRandom(99);
        float[] xs = new float[count * hw * hw];
        int[] ys = new int[count];
        for (int k = 0; k < count; k++) {
            int label = k % 2;
            int line = rnd.nextInt(hw);
            for (int i = 0; i < hw; i++) {
                for (int j = 0; j < hw; j++) {
                    boolean on = label == 0 ? i == line : j == line;
                    xs[(k * hw + i) * hw + j] = (on ? 1f : 0f) + (float) (rnd.nextGaussian() * 0.2);
                }
            }
            ys[k] = label;
        }
        int batch = 32;
        Graph g = new Graph(batch, TWO);
        Value x = g.input("image", hw, hw, 1);
        Value c1 = g.relu(g.conv2d(
                x,
                g.use(g.param("conv", init(rnd, 8 * 9, 9), 8, 3, 3, 1)),
                g.use(g.param("conv_b", new float[8], 8)),
                1,
                1,
                Padding.SAME));
        Value d1 = g.relu6(g.depthwiseConv2d(
                c1,
                g.use(g.param("dw", init(rnd, 9 * 16, 9), 3, 3, 16)),
                g.use(g.param("dw_b", new float[16], 16)),
                2,
                2,
                2,
                Padding.SAME));
        Value pooled = g.mean(d1);
        Value logits = g.dense(
                pooled, g.use(g.param("fc", init(rnd, 2 * 16, 16), 2, 16)), g.use(g.param("fc_b", new float[2], 2)));
        Value loss = g.crossEntropy(logits);
        g.minimize(loss, 1f);
        Adam adam = new Adam(g.trainableParams(), 0.02f);
        Batches batches = new Batches(count, 3);
        int[] labels = g.labels(loss);
        for (int epoch = 0; epoch < 40; epoch++) {
            int[] order = batches.nextEpoch();
            for (int from = 0; from < count; from += batch) {
                Batches.gather(xs, hw * hw, order, from, batch, x.data());
                Batches.gather(ys, order, from, batch, labels);
                g.zeroGrad();
                g.forward(batch);
                g.backward();
                adam.step();
            }
        }
        int correct = 0;
        for (int from = 0; from < count; from += batch) {
            System.arraycopy(xs, from * hw * hw, x.data(), 0, batch * hw * hw);
            g.forward(batch);
            for (int i = 0; i < batch; i++) {
                int pred = logits.data()[2 * i + 1] > logits.data()[2 * i] ? 1 : 0;
                correct += pred == ys[from + i] ? 1 : 0;
            }
        }
        assertTrue(correct / (double) count >= 0.95, "accuracy " + correct / (double) count);
    }

    /** End-to-end gradients of a graph with a residual add, pad, pooling and reshape, vs finite differences. */
    @Test
    void graphGradientsMatchFiniteDifferences() {
        SplittableRandom rnd = new SplittableRandom(5);
        Graph g = new Graph(3, TWO);
        Value x = g.input("x", 5, 5, 2).requireGrad();
        Param w = g.param("w", init(rnd, 4 * 9 * 2, 18), 4, 3, 3, 2);
        Param w2 = g.param("w2", init(rnd, 4 * 4, 4), 4, 1, 1, 4);
        Param b = g.param("b", init(rnd, 4, 4), 4);
        Value c = g.conv2d(x, g.use(w), g.use(b), 1, 1, Padding.SAME);
        Value res = g.add(c, g.conv2d(c, g.use(w2), null, 1, 1, Padding.SAME));
        Value p = g.pool(g.pad(res, new int[] {1, 0, 0}, new int[] {0, 1, 0}), false, 2, 2, 2, 2, Padding.SAME);
        Value flat = g.reshape(p, 3 * 3 * 4);
        Value logits = g.dense(flat, g.use(g.param("fc", init(rnd, 3 * 36, 36), 3, 36)), null);
        Value loss = g.crossEntropy(logits);
        g.minimize(loss, 1f);
        int n = 3;
        float[] xs = init(rnd, n * 50, 1);
        System.arraycopy(xs, 0, x.data(), 0, xs.length);
        int[] labels = g.labels(loss);
        labels[0] = 2;
        labels[1] = 0;
        labels[2] = 1;
        g.zeroGrad();
        g.forward(n);
        g.backward();
        for (float[][] pair : new float[][][] {
            {w.data(), w.grad()}, {b.data(), b.grad()}, {w2.data(), w2.grad()}, {x.data(), x.grad()}
        }) {
            float[] data = pair[0];
            float[] grad = pair[1];
            for (int k = 0; k < 12; k++) {
                int i = rnd.nextInt(Math.min(data.length, n * 50));
                float saved = data[i];
                float eps = 1e-2f;
                data[i] = saved + eps;
                g.forward(n);
                double up = g.loss();
                data[i] = saved - eps;
                g.forward(n);
                double down = g.loss();
                data[i] = saved;
                double fd = (up - down) / (2 * eps);
                assertEquals(fd, grad[i], 2e-3 + 2e-2 * Math.abs(fd), "d loss / d element " + i);
            }
        }
    }

    /**
     * One AdaRound reconstruction loop on a conv layer: soft-rounded weights, fake-quantized input, MSE to the
     * float layer's output plus the rounding regularizer; V trains, W and the float output are frozen. The
     * reconstruction error after hard rounding must not exceed round-to-nearest's.
     */
    @Test
    void adaRoundReconstructionBeatsRoundToNearest() {
        SplittableRandom rnd = new SplittableRandom(77);
        int batch = 16;
        int cin = 4;
        int cout = 6;
        float[] wData = init(rnd, cout * 9 * cin, 9 * cin);
        Graph g = new Graph(batch, TWO);
        Value x = g.input("x", 6, 6, cin);
        Value target = g.input("target", 6, 6, cout);
        Param w = g.param("w", wData, cout, 3, 3, cin).trainable(false);
        float[] scales = new float[cout];
        int inner = 9 * cin;
        for (int c = 0; c < cout; c++) {
            float max = 0;
            for (int i = 0; i < inner; i++) {
                max = Math.max(max, Math.abs(wData[c * inner + i]));
            }
            scales[c] = max / 7; // 4-bit signed grid [-8, 7]
        }
        Param s = g.param("s", scales, cout).trainable(false);
        float[] vInit = new float[wData.length];
        io.tinyptq.backend.cpu.kernels.AdaRound.initReference(wData, 1, cout, inner, scales, vInit);
        Param v = g.param("v", vInit, cout, 3, 3, cin);
        Value wq = g.adaRound(g.use(w), g.use(v), g.use(s), null, io.tinyptq.api.quant.IntegerGrid.signed(4), 0);
        Value y = g.conv2d(x, wq, null, 1, 1, Padding.SAME);
        Value mse = g.mse(y, target);
        Value reg = g.roundingRegularizer(g.use(v), 20f);
        g.minimize(mse, 1f);
        g.minimize(reg, 1e-4f);

        float[] xs = init(rnd, batch * 36 * cin, 3);
        System.arraycopy(xs, 0, x.data(), 0, xs.length);
        float[] ref = new float[batch * 36 * cout];
        io.tinyptq.backend.cpu.kernels.Conv2d.forwardReference(
                xs, batch, 6, 6, cin, wData, cout, 3, 3, null, 1, 1, 1, 1, ref, 6, 6);
        System.arraycopy(ref, 0, target.data(), 0, ref.length);

        g.hardRounding(wq, true);
        g.forward(batch);
        float nearest = mse.data()[0];
        g.hardRounding(wq, false);
        Adam adam = new Adam(List.of(v), 0.01f);
        for (int it = 0; it < 300; it++) {
            g.regularizerBeta(reg, 20f - 18f * it / 300f);
            g.zeroGrad();
            g.forward(batch);
            g.backward();
            adam.step();
        }
        g.hardRounding(wq, true);
        g.forward(batch);
        float learned = mse.data()[0];
        assertTrue(learned < nearest, "AdaRound MSE " + learned + " vs round-to-nearest " + nearest);
    }

    /**
     * The loss {@code mse(q(x; s, z), t)} through a 4-bit unsigned fake-quant node, against central finite
     * differences of its straight-through surrogate (LSQ, Esser et al. 2020): {@code rint(x/s)} is replaced by
     * {@code x/s + d} with the offset {@code d = rint(x/s) - x/s} frozen at the evaluation point, so the surrogate
     * equals Eq. 1 there and is piecewise quadratic around it. Its derivatives are the STE gradients by definition:
     * inside the grid {@code q = x + s d}, so {@code dq/dx = 1}, {@code dq/ds = d = rint(x/s) - x/s},
     * {@code dq/dz = 0}; clamped {@code q = s (n - z)} or {@code s (p - z)}, so {@code dq/dx = 0},
     * {@code dq/ds = n - z} or {@code p - z}, {@code dq/dz = -s}. Zero points have a fractional part in
     * [0.25, 0.75], so {@code rint(x/s) + z} is never within 0.25 of a grid end and the small steps below never
     * change which branch an element is in. With LSQ's gradient scale ({@code scaled}, the step-size gradient
     * {@code lsq}) the scale and zero-point gradients carry the factor {@code 1/sqrt(numel * p)}, numel the elements
     * sharing a scale; without it ({@code unscaled}) they are the surrogate's derivatives themselves. Per channel
     * along the last axis ({@code inner == 1}), along the first ({@code inner > 1}: vector path and tail) and per
     * tensor.
     */
    @ParameterizedTest(name = "axis {0}, LSQ scale {1}")
    @CsvSource({"1, true", "0, true", "-1, true", "1, false", "0, false", "-1, false"})
    void fakeQuantNodeGivesTheStraightThroughAndLsqGradients(int axis, boolean scaled) {
        SplittableRandom rnd = new SplittableRandom(8 + axis);
        int n = 4;
        int rows = 3;
        int cols = 20;
        int len = n * rows * cols;
        int channels = axis < 0 ? 1 : axis == 0 ? rows : cols;
        float qmax = 15; // unsigned 4 bits: grid [0, 15]
        Graph g = new Graph(n, TWO);
        Value x = g.input("x", rows, cols).requireGrad();
        float[] scales = new float[channels];
        float[] zeros = new float[channels];
        for (int c = 0; c < channels; c++) {
            scales[c] = (float) (0.05 + 0.25 * rnd.nextDouble());
            zeros[c] = (float) (1 + rnd.nextInt(12) + 0.25 + 0.5 * rnd.nextDouble());
        }
        Param s = g.param("s", scales, channels);
        Param z = g.param("z", zeros, channels);
        Value q = g.fakeQuant(x, g.use(s), g.use(z), io.tinyptq.api.quant.IntegerGrid.unsigned(4), axis, scaled);
        Value t = g.input("t", rows, cols);
        g.minimize(g.mse(q, t), 1f);
        for (int i = 0; i < len; i++) {
            x.data()[i] = (float) (4 * rnd.nextDouble() - 2);
            t.data()[i] = (float) (2 * rnd.nextDouble() - 1);
        }
        g.zeroGrad();
        g.forward(n);
        g.backward();

        int[] channel = new int[len];
        double[] xs = new double[len];
        double[] offset = new double[len];
        int[] branches = new int[3]; // below, inside, above the grid
        for (int i = 0; i < len; i++) {
            channel[i] = axis < 0 ? 0 : axis == 0 ? i / cols % rows : i % cols;
            xs[i] = x.data()[i];
            double v = xs[i] / scales[channel[i]];
            offset[i] = Math.rint(v) - v;
            double u = Math.rint(v) + zeros[channel[i]];
            branches[u < 0 ? 0 : u > qmax ? 2 : 1]++;
            double eq1 = scales[channel[i]] * (Math.min(Math.max(u, 0), qmax) - zeros[channel[i]]);
            assertEquals(eq1, q.data()[i], 1e-6, "Eq. 1 at " + i);
        }
        assertTrue(branches[0] > 0 && branches[1] > 0 && branches[2] > 0, java.util.Arrays.toString(branches));
        double[] ss = new double[channels];
        double[] zs = new double[channels];
        for (int c = 0; c < channels; c++) {
            ss[c] = scales[c];
            zs[c] = zeros[c];
        }
        double[] ts = new double[len];
        for (int i = 0; i < len; i++) {
            ts[i] = t.data()[i];
        }
        Surrogate f = () -> {
            double sum = 0;
            for (int i = 0; i < len; i++) {
                int c = channel[i];
                double u = xs[i] / ss[c] + offset[i] + zs[c];
                double d = ss[c] * (Math.min(Math.max(u, 0), qmax) - zs[c]) - ts[i];
                sum += d * d;
            }
            return sum / len;
        };
        double lsq = scaled ? 1 / Math.sqrt((double) (len / channels) * qmax) : 1;
        for (int i = 0; i < len; i++) {
            assertEquals(centralDifference(f, xs, i, 1e-3), x.grad()[i], 1e-7, "d loss / d x[" + i + "]");
        }
        for (int c = 0; c < channels; c++) {
            double ds = lsq * centralDifference(f, ss, c, 1e-5);
            double dz = lsq * centralDifference(f, zs, c, 1e-3);
            assertEquals(ds, s.grad()[c], 1e-6 + 1e-4 * Math.abs(ds), "d loss / d s[" + c + "]");
            assertEquals(dz, z.grad()[c], 1e-6 + 1e-4 * Math.abs(dz), "d loss / d z[" + c + "]");
        }
    }

    /** A loss read from arrays that {@link #centralDifference} perturbs in place. */
    interface Surrogate {
        double loss();
    }

    static double centralDifference(Surrogate f, double[] at, int i, double h) {
        double saved = at[i];
        at[i] = saved + h;
        double up = f.loss();
        at[i] = saved - h;
        double down = f.loss();
        at[i] = saved;
        return (up - down) / (2 * h);
    }

    @Test
    void randomSelectMixesItsOperandsAtTheGivenRateAndRoutesTheGradient() {
        int n = 4;
        int size = 250;
        Graph g = new Graph(n, TWO);
        Value a = g.input("a", size).requireGrad();
        Value b = g.input("b", size).requireGrad();
        Value mixed = g.randomSelect(a, b, 0.3, 7);
        Value target = g.input("t", size);
        g.minimize(g.mse(mixed, target), 1f);
        java.util.Arrays.fill(a.data(), 1f);
        java.util.Arrays.fill(b.data(), -1f);
        // Off (the default): the output is a.
        g.forward(n);
        for (int i = 0; i < n * size; i++) {
            assertEquals(1f, mixed.data()[i]);
        }
        g.randomSelection(true);
        g.zeroGrad();
        g.forward(n);
        g.backward();
        float[] first = mixed.data().clone();
        int fromA = 0;
        for (int i = 0; i < n * size; i++) {
            boolean isA = mixed.data()[i] == 1f;
            fromA += isA ? 1 : 0;
            // d mse / d out = 2 (out - 0) / (n size): each element's gradient reaches the operand it came from only.
            assertEquals(isA ? 2f / (n * size) : 0f, a.grad()[i], 1e-7f);
            assertEquals(isA ? 0f : -2f / (n * size), b.grad()[i], 1e-7f);
        }
        assertEquals(0.3, fromA / (double) (n * size), 0.05, fromA + " of " + n * size + " from a");
        g.forward(n);
        assertTrue(!java.util.Arrays.equals(first, mixed.data()), "the choice is redrawn on each forward pass");
    }
}
