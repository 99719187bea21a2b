package io.tinyptq.backend.cpu.kernels;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

/**
 * Depthwise 2-D convolution over NHWC with channel multiplier {@code m}: weight {@code [kH, kW, Cin*m]}, bias
 * {@code [Cin*m]}, output channel {@code c*m+j} reads input channel {@code c}:
 * <pre>
 *   y[n,oy,ox,c*m+j] = b[c*m+j] + sum_{ky,kx} x[n, oy*sH+ky-padTop, ox*sW+kx-padLeft, c] * w[ky,kx,c*m+j]
 * </pre>
 * Gradients: {@code dx[..,c] += sum_j dy[..,c*m+j]*w[..,c*m+j]} summed over the windows covering it,
 * {@code dw[ky,kx,o] += sum_{n,oy,ox} dy[n,oy,ox,o] * x[..]}, {@code db = } row sums of {@code dy}.
 *
 * <p>The fast path is a direct NHWC kernel vectorized across output channels: depthwise convolutions do
 * {@code kH*kW} multiply-adds per output, so they are memory-bound and a GEMM formulation would only add
 * traffic. With {@code m > 1} the input is expanded once into {@code [.., Cin*m]} (channel {@code c} repeated
 * {@code m} times) so that input and output channels line up on the lanes.
 */
public final class DepthwiseConv2d {
    private DepthwiseConv2d() {}

    /** Reference forward; {@code bias} may be {@code null}. */
    public static void forwardReference(
            float[] x,
            int n,
            int h,
            int w,
            int cin,
            float[] weight,
            int mult,
            int kh,
            int kw,
            float[] bias,
            int strideH,
            int strideW,
            int padTop,
            int padLeft,
            float[] y,
            int oh,
            int ow) {
        check(x, n, h, w, cin, weight, mult, kh, kw, bias, y, oh, ow);
        int cout = cin * mult;
        for (int b = 0; b < n; b++) {
            for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ox < ow; ox++) {
                    for (int o = 0; o < cout; o++) {
                        int c = o / mult;
                        float acc = bias == null ? 0f : bias[o];
                        for (int ky = 0; ky < kh; ky++) {
                            int iy = oy * strideH + ky - padTop;
                            if (iy < 0 || iy >= h) {
                                continue;
                            }
                            for (int kx = 0; kx < kw; kx++) {
                                int ix = ox * strideW + kx - padLeft;
                                if (ix >= 0 && ix < w) {
                                    acc += x[((b * h + iy) * w + ix) * cin + c] * weight[(ky * kw + kx) * cout + o];
                                }
                            }
                        }
                        y[((b * oh + oy) * ow + ox) * cout + o] = acc;
                    }
                }
            }
        }
    }

    /** Reference input gradient (adds into {@code dx}). */
    public static void backwardInputReference(
            float[] dy,
            int n,
            int h,
            int w,
            int cin,
            float[] weight,
            int mult,
            int kh,
            int kw,
            int strideH,
            int strideW,
            int padTop,
            int padLeft,
            float[] dx,
            int oh,
            int ow) {
        check(dx, n, h, w, cin, weight, mult, kh, kw, null, dy, oh, ow);
        int cout = cin * mult;
        for (int b = 0; b < n; b++) {
            for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ox < ow; ox++) {
                    for (int ky = 0; ky < kh; ky++) {
                        int iy = oy * strideH + ky - padTop;
                        if (iy < 0 || iy >= h) {
                            continue;
                        }
                        for (int kx = 0; kx < kw; kx++) {
                            int ix = ox * strideW + kx - padLeft;
                            if (ix < 0 || ix >= w) {
                                continue;
                            }
                            for (int o = 0; o < cout; o++) {
                                dx[((b * h + iy) * w + ix) * cin + o / mult] +=
                                        dy[((b * oh + oy) * ow + ox) * cout + o] * weight[(ky * kw + kx) * cout + o];
                            }
                        }
                    }
                }
            }
        }
    }

    /** Reference weight gradient (adds into {@code dw}). */
    public static void backwardWeightReference(
            float[] x,
            float[] dy,
            int n,
            int h,
            int w,
            int cin,
            float[] dw,
            int mult,
            int kh,
            int kw,
            int strideH,
            int strideW,
            int padTop,
            int padLeft,
            int oh,
            int ow) {
        check(x, n, h, w, cin, dw, mult, kh, kw, null, dy, oh, ow);
        int cout = cin * mult;
        for (int ky = 0; ky < kh; ky++) {
            for (int kx = 0; kx < kw; kx++) {
                for (int o = 0; o < cout; o++) {
                    float acc = 0f;
                    for (int b = 0; b < n; b++) {
                        for (int oy = 0; oy < oh; oy++) {
                            int iy = oy * strideH + ky - padTop;
                            if (iy < 0 || iy >= h) {
                                continue;
                            }
                            for (int ox = 0; ox < ow; ox++) {
                                int ix = ox * strideW + kx - padLeft;
                                if (ix >= 0 && ix < w) {
                                    acc += x[((b * h + iy) * w + ix) * cin + o / mult]
                                            * dy[((b * oh + oy) * ow + ox) * cout + o];
                                }
                            }
                        }
                    }
                    dw[(ky * kw + kx) * cout + o] += acc;
                }
            }
        }
    }

    private static void check(
            float[] x,
            int n,
            int h,
            int w,
            int cin,
            float[] weight,
            int mult,
            int kh,
            int kw,
            float[] bias,
            float[] y,
            int oh,
            int ow) {
        Checks.positive("depthwise dimensions", n, h, w, cin, mult, kh, kw, oh, ow);
        int cout = cin * mult;
        Checks.length("depthwise input [N,H,W,Cin]", x, (long) n * h * w * cin, n, h, w, cin);
        Checks.length("depthwise weight [kH,kW,Cin*m]", weight, (long) kh * kw * cout, kh, kw, cout);
        Checks.length("depthwise output [N,oH,oW,Cin*m]", y, (long) n * oh * ow * cout, n, oh, ow, cout);
        if (bias != null) {
            Checks.length("depthwise bias [Cin*m]", bias, cout, cout);
        }
    }

    // ------------------------------------------------------------------ fast

    /**
     * Output-row chunks of the weight gradient's reduction, a fixed number whatever the thread count (see
     * {@link #backwardWeightLoaded}); it also bounds the threads that share that kernel.
     */
    static final int WEIGHT_GRAD_CHUNKS = 16;

    /**
     * Buffers of the fast path: padded (and, for {@code m > 1}, channel-expanded) input and its gradient, and the
     * per-chunk weight-gradient partials. None depends on the thread count, so one workspace serves any team.
     */
    public static final class Workspace {
        final ConvShape shape;
        final int paddedH;
        final int paddedW;
        final float[] expanded;
        final float[] expandedGrad;
        final float[][] weightGrad;
        float[] input;
        int loadedBatch = -1;

        public Workspace(ConvShape shape) {
            shape.multiplier();
            this.shape = shape;
            this.paddedH = shape.paddedH();
            this.paddedW = shape.paddedW();
            boolean direct = shape.needsNoPadding() && shape.outC() == shape.inC();
            int size = shape.batch() * paddedH * paddedW * shape.outC();
            this.expanded = direct ? null : new float[size];
            this.expandedGrad = direct ? null : new float[size];
            this.weightGrad = new float[Math.min(WEIGHT_GRAD_CHUNKS, shape.batch() * shape.outH())]
                    [shape.kH() * shape.kW() * shape.outC()];
        }

        void check(ConvShape s) {
            if (!s.withBatch(shape.batch()).equals(shape) || s.batch() > shape.batch()) {
                throw new IllegalArgumentException("depthwise workspace for " + shape + " cannot run " + s);
            }
        }

        /** Copies {@code x} into the padded, channel-expanded buffer (or references it when neither is needed). */
        public void loadInput(ConvShape s, float[] x, Parallel par) {
            check(s);
            Checks.length("depthwise input", x, s.inputSize(), s);
            loadedBatch = s.batch();
            if (expanded == null) {
                input = x;
                return;
            }
            input = expanded;
            int cin = s.inC();
            int cout = s.outC();
            int m = cout / cin;
            int rows = Math.min(s.inH(), paddedH - s.padTop());
            int cols = Math.min(s.inW(), paddedW - s.padLeft());
            int imageSize = paddedH * paddedW * cout;
            par.forRange(s.batch(), 4, (t, n0, n1) -> {
                Arrays.fill(expanded, n0 * imageSize, n1 * imageSize, 0f);
                for (int b = n0; b < n1; b++) {
                    for (int iy = 0; iy < rows; iy++) {
                        int src = ((b * s.inH() + iy) * s.inW()) * cin;
                        int dst = ((b * paddedH + iy + s.padTop()) * paddedW + s.padLeft()) * cout;
                        if (m == 1) {
                            System.arraycopy(x, src, expanded, dst, cols * cin);
                        } else {
                            for (int i = 0; i < cols * cin; i++) {
                                Arrays.fill(expanded, dst + i * m, dst + (i + 1) * m, x[src + i]);
                            }
                        }
                    }
                }
            });
        }
    }

    /** Fast forward: loads {@code x} into {@code ws}, then {@link #forwardLoaded}. */
    public static void forward(
            ConvShape s, float[] x, float[] weight, float[] bias, float[] y, Workspace ws, Parallel par) {
        ws.loadInput(s, x, par);
        forwardLoaded(s, weight, bias, y, ws, par);
    }

    /** Fast forward over the loaded input; threads split output rows. */
    public static void forwardLoaded(ConvShape s, float[] weight, float[] bias, float[] y, Workspace ws, Parallel par) {
        checkFast(s, ws, weight, y);
        if (bias != null) {
            Checks.length("depthwise bias", bias, s.outC(), s);
        }
        int co = s.outC();
        int kh = s.kH();
        int kw = s.kW();
        int wp = ws.paddedW;
        float[] in = ws.input;
        int vl = MicroKernel.VL;
        par.forRange(s.batch() * s.outH(), 2, (t, r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int b = r / s.outH();
                int oy = r % s.outH();
                for (int ox = 0; ox < s.outW(); ox++) {
                    int base = ((b * ws.paddedH + oy * s.strideH()) * wp + ox * s.strideW()) * co;
                    int yo = (r * s.outW() + ox) * co;
                    int c0 = 0;
                    // full vectors unmasked (masked loads cost several times more), then one masked tail
                    for (; c0 <= co - vl; c0 += vl) {
                        FloatVector acc = bias == null
                                ? FloatVector.zero(MicroKernel.S)
                                : FloatVector.fromArray(MicroKernel.S, bias, c0);
                        for (int ky = 0; ky < kh; ky++) {
                            for (int kx = 0; kx < kw; kx++) {
                                acc = FloatVector.fromArray(MicroKernel.S, in, base + (ky * wp + kx) * co + c0)
                                        .fma(
                                                FloatVector.fromArray(MicroKernel.S, weight, (ky * kw + kx) * co + c0),
                                                acc);
                            }
                        }
                        acc.intoArray(y, yo + c0);
                    }
                    if (c0 < co) {
                        VectorMask<Float> mask = MicroKernel.S.indexInRange(c0, co);
                        FloatVector acc = bias == null
                                ? FloatVector.zero(MicroKernel.S)
                                : FloatVector.fromArray(MicroKernel.S, bias, c0, mask);
                        for (int ky = 0; ky < kh; ky++) {
                            for (int kx = 0; kx < kw; kx++) {
                                acc = FloatVector.fromArray(MicroKernel.S, in, base + (ky * wp + kx) * co + c0, mask)
                                        .fma(
                                                FloatVector.fromArray(
                                                        MicroKernel.S, weight, (ky * kw + kx) * co + c0, mask),
                                                acc);
                            }
                        }
                        acc.intoArray(y, yo + c0, mask);
                    }
                }
            }
        });
    }

    /** Fast input gradient (adds into {@code dx}); threads split the batch so scatter-adds never overlap. */
    public static void backwardInput(ConvShape s, float[] dy, float[] weight, float[] dx, Workspace ws, Parallel par) {
        ws.check(s);
        Checks.length("depthwise weight", weight, (long) s.kH() * s.kW() * s.outC(), s);
        Checks.length("depthwise output gradient", dy, s.outputSize(), s);
        Checks.length("depthwise input gradient", dx, s.inputSize(), s);
        int co = s.outC();
        int cin = s.inC();
        int m = co / cin;
        int kh = s.kH();
        int kw = s.kW();
        int wp = ws.paddedW;
        int vl = MicroKernel.VL;
        float[] g = ws.expandedGrad != null ? ws.expandedGrad : dx;
        int imageSize = ws.paddedH * wp * co;
        par.forRange(s.batch(), (t, n0, n1) -> {
            if (ws.expandedGrad != null) {
                Arrays.fill(g, n0 * imageSize, n1 * imageSize, 0f);
            }
            for (int b = n0; b < n1; b++) {
                for (int oy = 0; oy < s.outH(); oy++) {
                    for (int ox = 0; ox < s.outW(); ox++) {
                        int base = ((b * ws.paddedH + oy * s.strideH()) * wp + ox * s.strideW()) * co;
                        int yo = ((b * s.outH() + oy) * s.outW() + ox) * co;
                        int c0 = 0;
                        for (; c0 <= co - vl; c0 += vl) {
                            FloatVector gy = FloatVector.fromArray(MicroKernel.S, dy, yo + c0);
                            for (int ky = 0; ky < kh; ky++) {
                                for (int kx = 0; kx < kw; kx++) {
                                    int gi = base + (ky * wp + kx) * co + c0;
                                    gy.fma(
                                                    FloatVector.fromArray(
                                                            MicroKernel.S, weight, (ky * kw + kx) * co + c0),
                                                    FloatVector.fromArray(MicroKernel.S, g, gi))
                                            .intoArray(g, gi);
                                }
                            }
                        }
                        if (c0 < co) {
                            VectorMask<Float> mask = MicroKernel.S.indexInRange(c0, co);
                            FloatVector gy = FloatVector.fromArray(MicroKernel.S, dy, yo + c0, mask);
                            for (int ky = 0; ky < kh; ky++) {
                                for (int kx = 0; kx < kw; kx++) {
                                    int gi = base + (ky * wp + kx) * co + c0;
                                    gy.fma(
                                                    FloatVector.fromArray(
                                                            MicroKernel.S, weight, (ky * kw + kx) * co + c0, mask),
                                                    FloatVector.fromArray(MicroKernel.S, g, gi, mask))
                                            .intoArray(g, gi, mask);
                                }
                            }
                        }
                    }
                }
            }
            if (ws.expandedGrad != null) {
                int rows = Math.min(s.inH(), ws.paddedH - s.padTop());
                int cols = Math.min(s.inW(), wp - s.padLeft());
                for (int b = n0; b < n1; b++) {
                    for (int iy = 0; iy < rows; iy++) {
                        int src = ((b * ws.paddedH + iy + s.padTop()) * wp + s.padLeft()) * co;
                        int dst = ((b * s.inH() + iy) * s.inW()) * cin;
                        if (m == 1) {
                            Conv2d.addInto(g, src, dx, dst, cols * cin);
                        } else {
                            for (int i = 0; i < cols * cin; i++) {
                                float acc = 0f;
                                for (int j = 0; j < m; j++) {
                                    acc += g[src + i * m + j];
                                }
                                dx[dst + i] += acc;
                            }
                        }
                    }
                }
            }
        });
    }

    /** Fast weight gradient over {@code x} (loaded into {@code ws} first); adds into {@code dw}. */
    public static void backwardWeight(ConvShape s, float[] x, float[] dy, float[] dw, Workspace ws, Parallel par) {
        ws.loadInput(s, x, par);
        backwardWeightLoaded(s, dy, dw, ws, par);
    }

    /**
     * Fast weight gradient over the loaded input. The {@code N*oH} output rows are cut into
     * {@link #WEIGHT_GRAD_CHUNKS} near-equal chunks (fewer when there are fewer rows), each summed into its own
     * {@code kH*kW*Cout} partial; the threads split the chunks, and the partials are then added in chunk order,
     * {@code dw += ((p0 + p1) + p2) + ...}. The chunk boundaries depend on the shape only, so the result has the
     * same bits for every thread count.
     */
    public static void backwardWeightLoaded(ConvShape s, float[] dy, float[] dw, Workspace ws, Parallel par) {
        checkFast(s, ws, dw, dy);
        int co = s.outC();
        int kh = s.kH();
        int kw = s.kW();
        int wp = ws.paddedW;
        int vl = MicroKernel.VL;
        float[] in = ws.input;
        int rowsTotal = s.batch() * s.outH();
        int parts = Math.min(WEIGHT_GRAD_CHUNKS, rowsTotal);
        par.forRange(parts, (t, p0, p1) -> {
            for (int part = p0; part < p1; part++) {
                float[] acc = ws.weightGrad[part];
                Arrays.fill(acc, 0f);
                int r0 = (int) ((long) rowsTotal * part / parts);
                int r1 = (int) ((long) rowsTotal * (part + 1) / parts);
                for (int r = r0; r < r1; r++) {
                    int b = r / s.outH();
                    int oy = r % s.outH();
                    for (int ox = 0; ox < s.outW(); ox++) {
                        int base = ((b * ws.paddedH + oy * s.strideH()) * wp + ox * s.strideW()) * co;
                        int yo = (r * s.outW() + ox) * co;
                        int c0 = 0;
                        for (; c0 <= co - vl; c0 += vl) {
                            FloatVector gy = FloatVector.fromArray(MicroKernel.S, dy, yo + c0);
                            for (int ky = 0; ky < kh; ky++) {
                                for (int kx = 0; kx < kw; kx++) {
                                    int wi = (ky * kw + kx) * co + c0;
                                    gy.fma(
                                                    FloatVector.fromArray(
                                                            MicroKernel.S, in, base + (ky * wp + kx) * co + c0),
                                                    FloatVector.fromArray(MicroKernel.S, acc, wi))
                                            .intoArray(acc, wi);
                                }
                            }
                        }
                        if (c0 < co) {
                            VectorMask<Float> mask = MicroKernel.S.indexInRange(c0, co);
                            FloatVector gy = FloatVector.fromArray(MicroKernel.S, dy, yo + c0, mask);
                            for (int ky = 0; ky < kh; ky++) {
                                for (int kx = 0; kx < kw; kx++) {
                                    int wi = (ky * kw + kx) * co + c0;
                                    gy.fma(
                                                    FloatVector.fromArray(
                                                            MicroKernel.S, in, base + (ky * wp + kx) * co + c0, mask),
                                                    FloatVector.fromArray(MicroKernel.S, acc, wi, mask))
                                            .intoArray(acc, wi, mask);
                                }
                            }
                        }
                    }
                }
            }
        });
        addPartials(ws.weightGrad, parts, dw, kh * kw * co);
    }

    /** {@code dw[i] += ((p[0][i] + p[1][i]) + p[2][i]) + ...} over the first {@code parts} partials. */
    private static void addPartials(float[][] p, int parts, float[] dw, int len) {
        int vl = MicroKernel.VL;
        int i = 0;
        for (; i <= len - vl; i += vl) {
            FloatVector sum = FloatVector.fromArray(MicroKernel.S, p[0], i);
            for (int part = 1; part < parts; part++) {
                sum = sum.add(FloatVector.fromArray(MicroKernel.S, p[part], i));
            }
            FloatVector.fromArray(MicroKernel.S, dw, i).add(sum).intoArray(dw, i);
        }
        for (; i < len; i++) {
            float sum = p[0][i];
            for (int part = 1; part < parts; part++) {
                sum += p[part][i];
            }
            dw[i] += sum;
        }
    }

    private static void checkFast(ConvShape s, Workspace ws, float[] weight, float[] y) {
        ws.check(s);
        if (ws.input == null || ws.loadedBatch != s.batch()) {
            throw new IllegalStateException("depthwise workspace holds no input of batch " + s.batch());
        }
        Checks.length("depthwise weight [kH,kW,Cin*m]", weight, (long) s.kH() * s.kW() * s.outC(), s);
        Checks.length("depthwise output", y, s.outputSize(), s);
    }
}
