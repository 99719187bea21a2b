package io.tinyptq.backend.cpu.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tinyptq.backend.cpu.engine.Graph.Padding;
import io.tinyptq.backend.cpu.kernels.Parallel;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Batch normalization in the graph: direct formulas for both modes, finite differences for the gradients. */
class BatchNormTest {

    /** A conv1d -> batch norm -> relu -> dense -> cross-entropy graph over 4 samples of [6, 3]. */
    private static final class Net {
        final Graph g = new Graph(4, Parallel.serial());
        final Value x = g.input("x", 6, 3).requireGrad();
        final Param w;
        final Param gamma;
        final Param beta;
        final Param mean =
                g.param("mean", new float[] {0.1f, -0.2f, 0.3f, 0f, 0.5f}, 5).trainable(false);
        final Param var =
                g.param("var", new float[] {1f, 0.5f, 2f, 1.5f, 0.8f}, 5).trainable(false);
        final Value bn;
        final Value loss;

        Net(SplittableRandom rnd) {
            w = g.param("w", GraphTest.init(rnd, 5 * 2 * 3, 6), 5, 2, 3);
            gamma = g.param("gamma", GraphTest.init(rnd, 5, 1), 5);
            beta = g.param("beta", GraphTest.init(rnd, 5, 1), 5);
            Value c = g.conv1d(x, g.use(w), null, 1, Padding.VALID);
            bn = g.batchNorm(c, g.use(gamma), g.use(beta), g.use(mean), g.use(var), 1e-3f, 0.9f);
            Value logits = g.dense(g.relu(bn), g.use(g.param("fc", GraphTest.init(rnd, 3 * 25, 25), 3, 25)), null);
            loss = g.crossEntropy(logits);
            g.minimize(loss, 1f);
            int[] labels = g.labels(loss);
            for (int i = 0; i < 4; i++) {
                labels[i] = i % 3;
            }
            float[] xs = GraphTest.init(rnd, 4 * 18, 1);
            System.arraycopy(xs, 0, x.data(), 0, xs.length);
        }
    }

    @Test
    void trainingModeNormalizesWithBatchStatisticsAndMovesTheRunningOnes() {
        Net net = new Net(new SplittableRandom(3));
        net.g.training(true);
        float[] mean0 = net.mean.data().clone();
        net.g.forward(4);
        // Direct formula: recompute the conv output's per-channel statistics over batch x positions in double.
        Value conv = net.bn.producer.inputs[0];
        int rows = 4 * 5;
        for (int c = 0; c < 5; c++) {
            double m = 0;
            for (int r = 0; r < rows; r++) {
                m += conv.data[r * 5 + c];
            }
            m /= rows;
            double v = 0;
            for (int r = 0; r < rows; r++) {
                v += Math.pow(conv.data[r * 5 + c] - m, 2);
            }
            v /= rows;
            for (int r = 0; r < rows; r++) {
                double want = net.gamma.data()[c] * (conv.data[r * 5 + c] - m) / Math.sqrt(v + 1e-3)
                        + net.beta.data()[c];
                assertEquals(want, net.bn.data[r * 5 + c], 1e-5);
            }
            assertEquals(0.9 * mean0[c] + 0.1 * m, net.mean.data()[c], 1e-6);
        }
    }

    @Test
    void inferenceModeIsTheAffineOfTheRunningStatistics() {
        Net net = new Net(new SplittableRandom(4));
        net.g.forward(4);
        Value conv = net.bn.producer.inputs[0];
        for (int i = 0; i < 4 * 25; i++) {
            int c = i % 5;
            double want = net.gamma.data()[c]
                            * (conv.data[i] - net.mean.data()[c])
                            / Math.sqrt(net.var.data()[c] + 1e-3)
                    + net.beta.data()[c];
            assertEquals(want, net.bn.data[i], 1e-5);
        }
    }

    @Test
    void gradientsMatchFiniteDifferencesInBothModes() {
        for (boolean training : new boolean[] {true, false}) {
            SplittableRandom rnd = new SplittableRandom(training ? 11 : 12);
            Net net = new Net(rnd);
            net.g.training(training);
            net.g.zeroGrad();
            net.g.forward(4);
            net.g.backward();
            float[][][] pairs = {
                {net.w.data(), net.w.grad()},
                {net.gamma.data(), net.gamma.grad()},
                {net.beta.data(), net.beta.grad()},
                {net.x.data(), net.x.grad()}
            };
            for (float[][] pair : pairs) {
                float[] data = pair[0];
                float[] grad = pair[1];
                for (int k = 0; k < 8; k++) {
                    int i = rnd.nextInt(Math.min(data.length, 4 * 18));
                    float saved = data[i];
                    float eps = 1e-2f;
                    data[i] = saved + eps;
                    net.g.forward(4);
                    double up = net.g.loss();
                    data[i] = saved - eps;
                    net.g.forward(4);
                    double down = net.g.loss();
                    data[i] = saved;
                    double fd = (up - down) / (2 * eps);
                    assertEquals(
                            fd,
                            grad[i],
                            2e-3 + 3e-2 * Math.abs(fd),
                            (training ? "training" : "inference") + " mode: d loss / d element " + i);
                }
            }
        }
    }
}
