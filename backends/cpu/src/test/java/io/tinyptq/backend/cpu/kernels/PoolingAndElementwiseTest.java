package io.tinyptq.backend.cpu.kernels;

import static io.tinyptq.backend.cpu.kernels.TestData.assertClose;
import static io.tinyptq.backend.cpu.kernels.TestData.gradCheck;
import static io.tinyptq.backend.cpu.kernels.TestData.toDouble;
import static io.tinyptq.backend.cpu.kernels.TestData.uniform;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class PoolingAndElementwiseTest {
    private static final Parallel TWO = new Parallel(2);

    @AfterAll
    static void close() {
        TWO.close();
    }

    static Stream<ConvShape> poolShapes() {
        return Stream.of(
                ConvShape.same(2, 5, 7, 3, 3, 3, 3, 2, 2),
                ConvShape.same(1, 7, 7, 1, 1, 2, 2, 2, 2),
                ConvShape.valid(2, 6, 5, 20, 20, 2, 2, 2, 2),
                ConvShape.same(2, 4, 6, 17, 17, 3, 3, 1, 1),
                ConvShape.conv1d(2, 9, 5, 5, 3, 2, true));
    }

    /**
     * Average pooling on int8 codes, hand-computed (TFLite's {@code (sum +- count / 2) / count}): scale 0.5, int8
     * zero point -100, 2x2 windows, stride 2. Codes {-100,-99,-100,-99}: -398 / 4 = -99.5 -> -100. Codes
     * {10,11,10,11}: 42 / 4 = 10.5 -> 11 (the fake quantization of the float mean, 110.5 steps above the zero
     * point, would round to even: 110, code 10). Codes {-97,-98,-98,-98}: -391 / 4 = -97.75 -> -98. A SAME window
     * at the border counts its in-bounds elements only.
     */
    @Test
    void averageOfCodesRoundsTheIntegerSumHalfAwayFromZero() {
        float s = 0.5f;
        float z = -100;
        int[][] codes = {{-100, -99, 10, 11}, {-100, -99, 10, 11}, {-97, -98, 0, 0}, {-98, -98, 0, 0}};
        float[] x = new float[16];
        for (int r = 0; r < 4; r++) {
            for (int c = 0; c < 4; c++) {
                x[r * 4 + c] = s * (codes[r][c] - z);
            }
        }
        float[] y = new float[4];
        Pooling.averageOfCodes(ConvShape.valid(1, 4, 4, 1, 1, 2, 2, 2, 2), x, s, z, y);
        assertEquals(s * (-100 - z), y[0]);
        assertEquals(s * (11 - z), y[1]);
        assertEquals(s * (-98 - z), y[2]);
        assertEquals(s * (0 - z), y[3]);
        // SAME 3x3 stride 3 on a 2x2 input: one window holding the 4 in-bounds codes, -100-99-97-98 = -394 / 4 = -98.5
        float[] x2 = {s * (-100 - z), s * (-99 - z), s * (-97 - z), s * (-98 - z)};
        float[] y2 = new float[1];
        Pooling.averageOfCodes(ConvShape.same(1, 2, 2, 1, 1, 3, 3, 3, 3), x2, s, z, y2);
        assertEquals(s * (-99 - z), y2[0]);
    }

    @ParameterizedTest
    @MethodSource("poolShapes")
    void poolingMatchesTextbookAndFiniteDifferences(ConvShape s) {
        for (boolean max : new boolean[] {false, true}) {
            SplittableRandom rnd = new SplittableRandom(31);
            float[] x = uniform(rnd, s.inputSize(), -1, 1); // distinct values: max is differentiable
            float[] r = uniform(rnd, s.outputSize(), -1, 1);
            double[] xd = toDouble(x);
            double[] expected = Textbook.pool(xd, s, max);
            float[] y = new float[s.outputSize()];
            float[] dx = new float[x.length];
            if (max) {
                Pooling.maxForwardReference(
                        x,
                        s.batch(),
                        s.inH(),
                        s.inW(),
                        s.inC(),
                        s.kH(),
                        s.kW(),
                        s.strideH(),
                        s.strideW(),
                        s.padTop(),
                        s.padLeft(),
                        y,
                        s.outH(),
                        s.outW());
                Pooling.maxBackwardReference(
                        x,
                        r,
                        s.batch(),
                        s.inH(),
                        s.inW(),
                        s.inC(),
                        s.kH(),
                        s.kW(),
                        s.strideH(),
                        s.strideW(),
                        s.padTop(),
                        s.padLeft(),
                        dx,
                        s.outH(),
                        s.outW());
            } else {
                Pooling.avgForwardReference(
                        x,
                        s.batch(),
                        s.inH(),
                        s.inW(),
                        s.inC(),
                        s.kH(),
                        s.kW(),
                        s.strideH(),
                        s.strideW(),
                        s.padTop(),
                        s.padLeft(),
                        y,
                        s.outH(),
                        s.outW());
                Pooling.avgBackwardReference(
                        r,
                        s.batch(),
                        s.inH(),
                        s.inW(),
                        s.inC(),
                        s.kH(),
                        s.kW(),
                        s.strideH(),
                        s.strideW(),
                        s.padTop(),
                        s.padLeft(),
                        dx,
                        s.outH(),
                        s.outW());
            }
            assertClose(expected, y, 1e-6, (max ? "max " : "avg ") + s);
            gradCheck(xd, p -> TestData.dot(Textbook.pool(p, s, max), r), dx, 1e-4, 80, 4, (max ? "max " : "avg ") + s);
            for (Parallel par : new Parallel[] {Parallel.serial(), TWO}) {
                float[] yf = new float[s.outputSize()];
                Pooling.forward(s, max, x, yf, par);
                assertClose(y, yf, 1e-6, "fast pooling " + par + " " + s);
            }
        }
    }

    @Test
    void avgPoolingWithSameDividesByInBoundsCount() {
        // 2x2 input of ones... a corner window of a 3x3 SAME pool sees 4 elements of value 1 -> average 1, not 4/9
        ConvShape s = ConvShape.same(1, 2, 2, 1, 1, 3, 3, 1, 1);
        float[] y = new float[4];
        Pooling.avgForwardReference(new float[] {1, 2, 3, 4}, 1, 2, 2, 1, 3, 3, 1, 1, s.padTop(), s.padLeft(), y, 2, 2);
        assertClose(new float[] {2.5f, 2.5f, 2.5f, 2.5f}, y, 0, "SAME average");
    }

    @Test
    void meanPadActivationsAndAdd() {
        SplittableRandom rnd = new SplittableRandom(41);
        int n = 3;
        int sp = 7;
        int c = 19;
        float[] x = uniform(rnd, n * sp * c, -1, 1);
        float[] r = uniform(rnd, n * c, -1, 1);
        float[] y = new float[n * c];
        Pooling.meanReference(x, n, sp, c, y);
        float[] yf = new float[n * c];
        Pooling.mean(x, n, sp, c, yf, TWO);
        assertClose(y, yf, 1e-6, "fast mean");
        float[] dx = new float[x.length];
        Pooling.meanBackwardReference(r, n, sp, c, dx);
        gradCheck(
                toDouble(x),
                p -> {
                    double s = 0;
                    for (int b = 0; b < n; b++) {
                        for (int ch = 0; ch < c; ch++) {
                            double m = 0;
                            for (int q = 0; q < sp; q++) {
                                m += p[(b * sp + q) * c + ch];
                            }
                            s += m / sp * r[b * c + ch];
                        }
                    }
                    return s;
                },
                dx,
                1e-5,
                50,
                1,
                "mean");

        // pad: [2,3,2,3] -> pads (1,0),(2,1),(0,2)
        float[] px = uniform(rnd, 2 * 3 * 2 * 3, -1, 1);
        float[] py = new float[2 * 4 * 5 * 5];
        Pad.forward(px, 2, 3, 2, 3, 1, 0, 2, 1, 0, 2, py);
        assertEquals(px[0], py[((0 * 4 + 1) * 5 + 2) * 5], 0f);
        assertEquals(px[((1 * 3 + 2) * 2 + 1) * 3 + 2], py[((1 * 4 + 3) * 5 + 3) * 5 + 2], 0f);
        double sum = 0;
        for (float v : py) {
            sum += v;
        }
        double sumX = 0;
        for (float v : px) {
            sumX += v;
        }
        assertEquals(sumX, sum, 1e-5);
        float[] pr = uniform(rnd, py.length, -1, 1);
        float[] pdx = new float[px.length];
        Pad.backward(pr, 2, 3, 2, 3, 1, 0, 2, 1, 0, 2, pdx);
        assertEquals(pr[((1 * 4 + 3) * 5 + 3) * 5 + 2], pdx[((1 * 3 + 2) * 2 + 1) * 3 + 2], 0f);

        // ReLU, ReLU6, add: fast equals reference exactly
        int len = 1000;
        float[] a = uniform(rnd, len, -8, 8);
        float[] b = uniform(rnd, len, -8, 8);
        float[] g = uniform(rnd, len, -1, 1);
        for (float cap : new float[] {Float.POSITIVE_INFINITY, 6f}) {
            float[] y1 = new float[len];
            float[] y2 = new float[len];
            Elementwise.clampReference(a, 0, y1, 0, len, cap);
            Elementwise.clamp(a, 0, y2, 0, len, cap, TWO);
            assertClose(y1, y2, 0, "clamp " + cap);
            float[] d1 = new float[len];
            float[] d2 = new float[len];
            Elementwise.clampBackwardReference(a, 0, g, 0, d1, 0, len, cap);
            Elementwise.clampBackward(a, 0, g, 0, d2, 0, len, cap, TWO);
            assertClose(d1, d2, 0, "clamp gradient " + cap);
            for (int i = 0; i < len; i++) {
                float expect = a[i] > 0 && a[i] < cap ? g[i] : 0f;
                assertEquals(expect, d1[i], 0f);
                assertEquals(Math.min(Math.max(a[i], 0f), cap), y1[i], 0f);
            }
        }
        float[] s1 = new float[len];
        float[] s2 = new float[len];
        Elementwise.addReference(a, 0, b, 0, s1, 0, len);
        Elementwise.add(a, 0, b, 0, s2, 0, len, TWO);
        assertClose(s1, s2, 0, "add");
    }

    @Test
    void softmaxCrossEntropyAndMse() {
        SplittableRandom rnd = new SplittableRandom(51);
        int n = 4;
        int c = 5;
        float[] z = uniform(rnd, n * c, -3, 3);
        int[] labels = {0, 4, 2, 2};
        float[] probs = new float[n * c];
        float[] dz = new float[n * c];
        float loss = Losses.crossEntropy(z, n, c, labels, probs, dz, 1f);
        java.util.function.ToDoubleFunction<double[]> ce = p -> {
            double l = 0;
            for (int r = 0; r < n; r++) {
                double m = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < c; j++) {
                    m = Math.max(m, p[r * c + j]);
                }
                double s = 0;
                for (int j = 0; j < c; j++) {
                    s += Math.exp(p[r * c + j] - m);
                }
                l += m + Math.log(s) - p[r * c + labels[r]];
            }
            return l / n;
        };
        assertEquals(ce.applyAsDouble(toDouble(z)), loss, 1e-5);
        gradCheck(toDouble(z), ce, dz, 1e-4, n * c, 1, "cross-entropy");

        float[] r = uniform(rnd, n * c, -1, 1);
        float[] dx = new float[n * c];
        Losses.softmaxBackward(probs, r, n, c, dx);
        gradCheck(
                toDouble(z),
                p -> {
                    double s = 0;
                    for (int row = 0; row < n; row++) {
                        double m = Double.NEGATIVE_INFINITY;
                        for (int j = 0; j < c; j++) {
                            m = Math.max(m, p[row * c + j]);
                        }
                        double sum = 0;
                        for (int j = 0; j < c; j++) {
                            sum += Math.exp(p[row * c + j] - m);
                        }
                        for (int j = 0; j < c; j++) {
                            s += Math.exp(p[row * c + j] - m) / sum * r[row * c + j];
                        }
                    }
                    return s;
                },
                dx,
                1e-4,
                n * c,
                2,
                "softmax");

        float[] a = uniform(rnd, 30, -1, 1);
        float[] t = uniform(rnd, 30, -1, 1);
        float[] da = new float[30];
        float mse = Losses.mse(a, 0, t, 0, 30, da, 0, 1f);
        java.util.function.ToDoubleFunction<double[]> f = p -> {
            double s = 0;
            for (int i = 0; i < 30; i++) {
                s += (p[i] - t[i]) * (p[i] - t[i]);
            }
            return s / 30;
        };
        assertEquals(f.applyAsDouble(toDouble(a)), mse, 1e-6);
        gradCheck(toDouble(a), f, da, 1e-4, 30, 3, "mse");
    }
}
