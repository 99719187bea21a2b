package io.tinyptq.backend.cpu.kernels;

import static io.tinyptq.backend.cpu.kernels.TestData.uniform;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The fast kernels give the same bits with teams of 1, 2 and 3 threads ({@link Parallel}'s promise): a sum that
 * crosses threads must be cut at boundaries that do not depend on the team. Compared bit for bit, not within a
 * tolerance.
 */
class ThreadCountTest {
    private static final Parallel TWO = new Parallel(2);
    private static final Parallel THREE = new Parallel(3);

    @AfterAll
    static void close() {
        TWO.close();
        THREE.close();
    }

    /**
     * Rows ({@code N*oH}) below, at and far above the weight gradient's chunk count; multiplier 1 and 2 (the
     * expanded input); channels under one vector, one and a half vectors; stride 2; a batch smaller than the
     * workspace's.
     */
    static Stream<ConvShape> depthwiseShapes() {
        return Stream.of(
                ConvShape.same(1, 5, 7, 3, 3, 3, 3, 1, 1),
                ConvShape.same(4, 4, 4, 8, 8, 3, 3, 1, 1),
                ConvShape.same(32, 12, 12, 8, 8, 3, 3, 2, 2),
                ConvShape.same(7, 9, 6, 12, 24, 3, 3, 1, 1),
                ConvShape.valid(5, 10, 10, 19, 19, 3, 2, 1, 2));
    }

    @ParameterizedTest
    @MethodSource("depthwiseShapes")
    void depthwiseGradientsHaveTheSameBitsForEveryThreadCount(ConvShape s) {
        SplittableRandom rnd = new SplittableRandom(5);
        float[] x = uniform(rnd, s.inputSize(), -1, 1);
        float[] w = uniform(rnd, s.kH() * s.kW() * s.outC(), -1, 1);
        float[] b = uniform(rnd, s.outC(), -1, 1);
        float[] dy = uniform(rnd, s.outputSize(), -1, 1);
        // the gradients add into what is there, as a training step's second use of a shared tensor would
        float[] dx0 = uniform(rnd, s.inputSize(), -1, 1);
        float[] dw0 = uniform(rnd, w.length, -1, 1);
        // a workspace for a larger batch, as a graph built for its largest batch runs a smaller one
        DepthwiseConv2d.Workspace ws = new DepthwiseConv2d.Workspace(s.withBatch(s.batch() + 3));

        float[][] expected = null;
        for (Parallel par : new Parallel[] {Parallel.serial(), TWO, THREE}) {
            float[] y = new float[s.outputSize()];
            float[] dx = dx0.clone();
            float[] dw = dw0.clone();
            DepthwiseConv2d.forward(s, x, w, b, y, ws, par);
            DepthwiseConv2d.backwardInput(s, dy, w, dx, ws, par);
            DepthwiseConv2d.backwardWeightLoaded(s, dy, dw, ws, par);
            if (expected == null) {
                expected = new float[][] {y, dx, dw};
            } else {
                assertArrayEquals(expected[0], y, "forward with " + par + " " + s);
                assertArrayEquals(expected[1], dx, "input gradient with " + par + " " + s);
                assertArrayEquals(expected[2], dw, "weight gradient with " + par + " " + s);
            }
        }
    }

    /** Convolutions: the threads split output pixels (forward) or weight columns (weight gradient). */
    static Stream<ConvShape> convShapes() {
        return Stream.of(
                ConvShape.same(4, 9, 9, 5, 20, 3, 3, 1, 1),
                ConvShape.same(16, 8, 8, 3, 8, 3, 3, 1, 1),
                ConvShape.valid(16, 4, 4, 8, 16, 1, 1, 1, 1),
                ConvShape.same(3, 11, 7, 6, 33, 3, 3, 2, 2));
    }

    @ParameterizedTest
    @MethodSource("convShapes")
    void convolutionGradientsHaveTheSameBitsForEveryThreadCount(ConvShape s) {
        SplittableRandom rnd = new SplittableRandom(6);
        float[] x = uniform(rnd, s.inputSize(), -1, 1);
        float[] w = uniform(rnd, s.outC() * s.patchSize(), -1, 1);
        float[] b = uniform(rnd, s.outC(), -1, 1);
        float[] dy = uniform(rnd, s.outputSize(), -1, 1);
        float[] dx0 = uniform(rnd, s.inputSize(), -1, 1);
        float[] dw0 = uniform(rnd, w.length, -1, 1);
        ConvWorkspace ws = new ConvWorkspace(s, 3);

        float[][] expected = null;
        for (Parallel par : new Parallel[] {Parallel.serial(), TWO, THREE}) {
            float[] y = new float[s.outputSize()];
            float[] dx = dx0.clone();
            float[] dw = dw0.clone();
            Conv2d.forward(s, x, w, b, y, ws, par);
            Conv2d.backwardInput(s, dy, w, dx, ws, par);
            Conv2d.backwardWeightLoaded(s, dy, dw, ws, par);
            if (expected == null) {
                expected = new float[][] {y, dx, dw};
            } else {
                assertArrayEquals(expected[0], y, "forward with " + par + " " + s);
                assertArrayEquals(expected[1], dx, "input gradient with " + par + " " + s);
                assertArrayEquals(expected[2], dw, "weight gradient with " + par + " " + s);
            }
        }
    }

    /** Dense layers: batches of a few and of many row tiles, so both the row and the column split run. */
    @ParameterizedTest
    @CsvSource({"3,7,5", "16,16,4", "13,33,17", "64,40,70"})
    void denseGradientsHaveTheSameBitsForEveryThreadCount(int n, int in, int out) {
        SplittableRandom rnd = new SplittableRandom(7);
        float[] x = uniform(rnd, n * in, -1, 1);
        float[] w = uniform(rnd, out * in, -1, 1);
        float[] b = uniform(rnd, out, -1, 1);
        float[] dy = uniform(rnd, n * out, -1, 1);
        float[] dx0 = uniform(rnd, n * in, -1, 1);
        float[] dw0 = uniform(rnd, w.length, -1, 1);
        Dense.Workspace ws = new Dense.Workspace(n, in, out, 3);

        float[][] expected = null;
        for (Parallel par : new Parallel[] {Parallel.serial(), TWO, THREE}) {
            float[] y = new float[n * out];
            float[] dx = dx0.clone();
            float[] dw = dw0.clone();
            Dense.forward(x, n, in, w, out, b, y, ws, par);
            Dense.backwardInput(dy, n, in, w, out, dx, ws, par);
            Dense.backwardWeight(x, dy, n, in, dw, out, ws, par);
            String what = " with " + par + " [" + n + "," + in + "]->" + out;
            if (expected == null) {
                expected = new float[][] {y, dx, dw};
            } else {
                assertArrayEquals(expected[0], y, "forward" + what);
                assertArrayEquals(expected[1], dx, "input gradient" + what);
                assertArrayEquals(expected[2], dw, "weight gradient" + what);
            }
        }
    }
}
