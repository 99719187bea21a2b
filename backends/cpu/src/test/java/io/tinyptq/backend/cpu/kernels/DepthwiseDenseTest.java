package io.tinyptq.backend.cpu.kernels;

import static io.tinyptq.backend.cpu.kernels.TestData.assertClose;
import static io.tinyptq.backend.cpu.kernels.TestData.gradCheck;
import static io.tinyptq.backend.cpu.kernels.TestData.toDouble;
import static io.tinyptq.backend.cpu.kernels.TestData.uniform;

import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

class DepthwiseDenseTest {
    private static final Parallel TWO = new Parallel(2);

    @AfterAll
    static void close() {
        TWO.close();
    }

    /** Multiplier 1, 2 and 3; one channel; channels beyond one vector; stride 2 SAME; VALID; 1-D. */
    static Stream<ConvShape> depthwiseShapes() {
        return Stream.of(
                ConvShape.same(2, 5, 7, 3, 3, 3, 3, 1, 1),
                ConvShape.same(2, 7, 6, 1, 2, 3, 3, 2, 2),
                ConvShape.same(1, 6, 5, 5, 15, 3, 3, 2, 2),
                ConvShape.valid(2, 6, 6, 19, 19, 3, 2, 1, 2),
                ConvShape.same(2, 4, 4, 40, 40, 3, 3, 1, 1),
                ConvShape.conv1d(2, 9, 4, 8, 5, 1, true));
    }

    @ParameterizedTest
    @MethodSource("depthwiseShapes")
    void depthwiseForwardAndGradients(ConvShape s) {
        SplittableRandom rnd = new SplittableRandom(21);
        int m = s.multiplier();
        float[] x = uniform(rnd, s.inputSize(), -1, 1);
        float[] w = uniform(rnd, s.kH() * s.kW() * s.outC(), -1, 1);
        float[] b = uniform(rnd, s.outC(), -1, 1);
        float[] r = uniform(rnd, s.outputSize(), -1, 1);
        double[] xd = toDouble(x);
        double[] wd = toDouble(w);
        double[] bd = toDouble(b);
        double[] expected = Textbook.depthwise(xd, wd, bd, s);
        double tol = 1e-4 + 2e-6 * s.outputPixels();

        float[] y = new float[s.outputSize()];
        DepthwiseConv2d.forwardReference(
                x,
                s.batch(),
                s.inH(),
                s.inW(),
                s.inC(),
                w,
                m,
                s.kH(),
                s.kW(),
                b,
                s.strideH(),
                s.strideW(),
                s.padTop(),
                s.padLeft(),
                y,
                s.outH(),
                s.outW());
        assertClose(expected, y, 1e-5, "reference forward " + s);

        float[] dx = new float[x.length];
        float[] dw = new float[w.length];
        DepthwiseConv2d.backwardInputReference(
                r,
                s.batch(),
                s.inH(),
                s.inW(),
                s.inC(),
                w,
                m,
                s.kH(),
                s.kW(),
                s.strideH(),
                s.strideW(),
                s.padTop(),
                s.padLeft(),
                dx,
                s.outH(),
                s.outW());
        DepthwiseConv2d.backwardWeightReference(
                x,
                r,
                s.batch(),
                s.inH(),
                s.inW(),
                s.inC(),
                dw,
                m,
                s.kH(),
                s.kW(),
                s.strideH(),
                s.strideW(),
                s.padTop(),
                s.padLeft(),
                s.outH(),
                s.outW());
        gradCheck(xd, p -> TestData.dot(Textbook.depthwise(p, wd, bd, s), r), dx, tol, 60, 1, "dx " + s);
        gradCheck(wd, p -> TestData.dot(Textbook.depthwise(xd, p, bd, s), r), dw, tol, 60, 2, "dw " + s);

        for (Parallel par : new Parallel[] {Parallel.serial(), TWO}) {
            DepthwiseConv2d.Workspace ws = new DepthwiseConv2d.Workspace(s);
            float[] yf = new float[s.outputSize()];
            DepthwiseConv2d.forward(s, x, w, b, yf, ws, par);
            assertClose(expected, yf, 1e-5, "fast forward " + par + " " + s);
            float[] fx = new float[x.length];
            float[] fw = new float[w.length];
            DepthwiseConv2d.backwardInput(s, r, w, fx, ws, par);
            DepthwiseConv2d.backwardWeightLoaded(s, r, fw, ws, par);
            assertClose(dx, fx, tol, "fast dx " + par + " " + s);
            assertClose(dw, fw, tol, "fast dw " + par + " " + s);
        }
    }

    @ParameterizedTest
    @CsvSource({"1,1,1", "3,7,5", "13,33,17", "32,64,10", "5,200,40"})
    void denseForwardAndGradients(int n, int in, int out) {
        SplittableRandom rnd = new SplittableRandom(n * 31L + in);
        float[] x = uniform(rnd, n * in, -1, 1);
        float[] w = uniform(rnd, out * in, -1, 1);
        float[] b = uniform(rnd, out, -1, 1);
        float[] r = uniform(rnd, n * out, -1, 1);
        double[] xd = toDouble(x);
        double[] wd = toDouble(w);
        double[] bd = toDouble(b);
        double[] expected = Textbook.dense(xd, wd, bd, n, in, out);
        double tol = 1e-4 + 2e-6 * Math.max(in, Math.max(n, out));
        float[] y = new float[n * out];
        Dense.forwardReference(x, n, in, w, out, b, y);
        assertClose(expected, y, tol, "reference forward");
        float[] dx = new float[x.length];
        float[] dw = new float[w.length];
        Dense.backwardInputReference(r, n, in, w, out, dx);
        Dense.backwardWeightReference(x, r, n, in, dw, out);
        gradCheck(xd, p -> TestData.dot(Textbook.dense(p, wd, bd, n, in, out), r), dx, tol, 40, 1, "dense dx");
        gradCheck(wd, p -> TestData.dot(Textbook.dense(xd, p, bd, n, in, out), r), dw, tol, 40, 2, "dense dw");
        for (Parallel par : new Parallel[] {Parallel.serial(), TWO}) {
            Dense.Workspace ws = new Dense.Workspace(n, in, out, 2);
            float[] yf = new float[n * out];
            Dense.forward(x, n, in, w, out, b, yf, ws, par);
            assertClose(expected, yf, tol, "fast forward " + par);
            float[] fx = new float[x.length];
            float[] fw = new float[w.length];
            Dense.backwardInput(r, n, in, w, out, fx, ws, par);
            Dense.backwardWeight(x, r, n, in, fw, out, ws, par);
            assertClose(dx, fx, tol, "fast dx " + par);
            assertClose(dw, fw, tol, "fast dw " + par);
        }
    }
}
