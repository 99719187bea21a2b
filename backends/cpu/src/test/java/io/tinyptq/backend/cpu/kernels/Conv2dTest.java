package io.tinyptq.backend.cpu.kernels;

import static io.tinyptq.backend.cpu.kernels.TestData.assertClose;
import static io.tinyptq.backend.cpu.kernels.TestData.gradCheck;
import static io.tinyptq.backend.cpu.kernels.TestData.toDouble;
import static io.tinyptq.backend.cpu.kernels.TestData.uniform;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class Conv2dTest {
    private static final Parallel TWO = new Parallel(2);

    @AfterAll
    static void close() {
        TWO.close();
    }

    /** Awkward geometries: odd sizes, stride 2 with SAME, one channel, Cout beyond two panels, 1x1, 3x1, 1-D. */
    static Stream<ConvShape> shapes() {
        return Stream.of(
                ConvShape.same(2, 5, 7, 3, 5, 3, 3, 1, 1),
                ConvShape.same(3, 7, 6, 1, 4, 3, 3, 2, 2),
                ConvShape.same(1, 8, 8, 4, 37, 3, 3, 2, 2),
                ConvShape.valid(2, 6, 5, 4, 33, 2, 2, 2, 2),
                ConvShape.explicit(2, 5, 5, 2, 3, 3, 3, 1, 2, 2, 0, 1, 1),
                ConvShape.valid(2, 4, 5, 17, 16, 1, 1, 1, 1),
                ConvShape.same(2, 6, 4, 3, 8, 3, 1, 1, 1),
                ConvShape.conv1d(3, 11, 5, 6, 3, 2, true),
                ConvShape.same(1, 9, 9, 16, 32, 5, 5, 2, 2));
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void forwardMatchesTextbookLoop(ConvShape s) {
        SplittableRandom rnd = new SplittableRandom(11);
        float[] x = uniform(rnd, s.inputSize(), -1, 1);
        float[] w = uniform(rnd, s.outC() * s.patchSize(), -1, 1);
        float[] b = uniform(rnd, s.outC(), -1, 1);
        double[] expected = Textbook.conv2d(toDouble(x), toDouble(w), toDouble(b), s);
        double tol = 2e-6 * s.patchSize();

        float[] y = new float[s.outputSize()];
        Conv2d.forwardReference(
                x,
                s.batch(),
                s.inH(),
                s.inW(),
                s.inC(),
                w,
                s.outC(),
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
        assertClose(expected, y, tol, "reference forward " + s);

        for (Parallel par : new Parallel[] {Parallel.serial(), TWO}) {
            float[] yf = new float[s.outputSize()];
            Conv2d.forward(s, x, w, b, yf, new ConvWorkspace(s, 2), par);
            assertClose(expected, yf, tol, "fast forward " + par + " " + s);
        }
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void gradientsMatchFiniteDifferences(ConvShape s) {
        SplittableRandom rnd = new SplittableRandom(12);
        float[] x = uniform(rnd, s.inputSize(), -1, 1);
        float[] w = uniform(rnd, s.outC() * s.patchSize(), -1, 1);
        float[] b = uniform(rnd, s.outC(), -1, 1);
        float[] r = uniform(rnd, s.outputSize(), -1, 1); // dL/dy of L = sum(y * r)
        double[] xd = toDouble(x);
        double[] wd = toDouble(w);
        double[] bd = toDouble(b);
        double tol = 1e-4 + 2e-6 * Math.max(s.patchSize(), s.outputPixels());

        float[] dx = new float[x.length];
        float[] dw = new float[w.length];
        float[] db = new float[b.length];
        Conv2d.backwardInputReference(
                r,
                s.batch(),
                s.inH(),
                s.inW(),
                s.inC(),
                w,
                s.outC(),
                s.kH(),
                s.kW(),
                s.strideH(),
                s.strideW(),
                s.padTop(),
                s.padLeft(),
                dx,
                s.outH(),
                s.outW());
        Conv2d.backwardWeightReference(
                x,
                r,
                s.batch(),
                s.inH(),
                s.inW(),
                s.inC(),
                dw,
                s.outC(),
                s.kH(),
                s.kW(),
                s.strideH(),
                s.strideW(),
                s.padTop(),
                s.padLeft(),
                s.outH(),
                s.outW());
        Elementwise.sumRowsReference(r, s.outputPixels(), s.outC(), db);
        gradCheck(xd, p -> TestData.dot(Textbook.conv2d(p, wd, bd, s), r), dx, tol, 60, 1, "reference dx " + s);
        gradCheck(wd, p -> TestData.dot(Textbook.conv2d(xd, p, bd, s), r), dw, tol, 60, 2, "reference dw " + s);
        gradCheck(bd, p -> TestData.dot(Textbook.conv2d(xd, wd, p, s), r), db, tol, 60, 3, "reference db " + s);

        for (Parallel par : new Parallel[] {Parallel.serial(), TWO}) {
            ConvWorkspace ws = new ConvWorkspace(s, 2);
            float[] fx = new float[x.length];
            float[] fw = new float[w.length];
            float[] fb = new float[b.length];
            Conv2d.backwardInput(s, r, w, fx, ws, par);
            Conv2d.backwardWeight(s, x, r, fw, ws, par);
            Conv2d.backwardBias(r, s.outputPixels(), s.outC(), fb);
            assertClose(dx, fx, tol, "fast dx vs reference " + par + " " + s);
            assertClose(dw, fw, tol, "fast dw vs reference " + par + " " + s);
            assertClose(db, fb, tol, "fast db vs reference " + par + " " + s);

            // packed columns give the same weight gradient, and gradients accumulate
            ws.packColumns(par);
            Conv2d.backwardWeightLoaded(s, r, fw, ws, par);
            for (int i = 0; i < dw.length; i++) {
                dw[i] *= 2;
            }
            assertClose(dw, fw, tol, "fast dw with packed columns, accumulated " + par + " " + s);
            for (int i = 0; i < dw.length; i++) {
                dw[i] /= 2;
            }
        }
    }

    @Test
    void smallerBatchThanWorkspaceAndSimdVsScalarOnResNetShape() {
        ConvShape max = ConvShape.same(4, 16, 16, 32, 32, 3, 3, 1, 1);
        ConvShape s = max.withBatch(3);
        SplittableRandom rnd = new SplittableRandom(5);
        float[] x = uniform(rnd, s.inputSize(), -1, 1);
        float[] w = uniform(rnd, s.outC() * s.patchSize(), -0.2, 0.2);
        float[] dy = uniform(rnd, s.outputSize(), -1, 1);
        float[] yRef = new float[s.outputSize()];
        Conv2d.forwardReference(x, 3, 16, 16, 32, w, 32, 3, 3, null, 1, 1, 1, 1, yRef, 16, 16);
        ConvWorkspace ws = new ConvWorkspace(max, 2);
        float[] y = new float[s.outputSize()];
        Conv2d.forward(s, x, w, null, y, ws, TWO);
        double tol = 1e-6 * s.patchSize();
        assertClose(yRef, y, tol, "forward");
        float[] dwRef = new float[w.length];
        Conv2d.backwardWeightReference(x, dy, 3, 16, 16, 32, dwRef, 32, 3, 3, 1, 1, 1, 1, 16, 16);
        float[] dw = new float[w.length];
        Conv2d.backwardWeightLoaded(s, dy, dw, ws, TWO);
        assertClose(dwRef, dw, 1e-6 * s.outputPixels(), "weight gradient");
        float[] dxRef = new float[x.length];
        Conv2d.backwardInputReference(dy, 3, 16, 16, 32, w, 32, 3, 3, 1, 1, 1, 1, dxRef, 16, 16);
        float[] dx = new float[x.length];
        Conv2d.backwardInput(s, dy, w, dx, ws, TWO);
        assertClose(dxRef, dx, 1e-6 * 32 * 9, "input gradient");
    }

    @Test
    void samePaddingFollowsTensorFlow() {
        // in=7, k=3, s=2: out=4, total=max(3*2+3-7,0)=2 -> 1 before, 1 after
        assertEquals(4, ConvShape.sameOutput(7, 2));
        assertEquals(1, ConvShape.samePadBefore(7, 3, 2));
        // in=8, k=3, s=2: out=4, total=1 -> 0 before, the extra one after (bottom/right)
        assertEquals(0, ConvShape.samePadBefore(8, 3, 2));
        // in=5, k=1, s=1: no padding
        assertEquals(0, ConvShape.samePadBefore(5, 1, 1));
    }

    @Test
    void wrongShapesNameTheShapes() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> Conv2d.forwardReference(
                        new float[10], 1, 3, 3, 2, new float[36], 2, 3, 3, null, 1, 1, 1, 1, new float[18], 3, 3));
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("[1, 3, 3, 2]"), e.getMessage());
        ConvShape s = ConvShape.same(2, 4, 4, 3, 5, 3, 3, 1, 1);
        assertThrows(
                IllegalArgumentException.class,
                () -> Conv2d.forward(
                        s.withBatch(3),
                        new float[96],
                        new float[135],
                        null,
                        new float[240],
                        new ConvWorkspace(s, 1),
                        Parallel.serial()));
    }
}
