package io.tinyptq.backend.cpu.kernels;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;

/**
 * 2-D convolution over NHWC activations with weights {@code [Cout, kH, kW, Cin]} (TFLite's OHWI), bias
 * {@code [Cout]}, stride, zero padding given as {@code padTop/padLeft} (see {@link ConvShape} for SAME), and
 * dilation 1:
 * <pre>
 *   y[n,oy,ox,co] = b[co] + sum_{ky,kx,ci} x[n, oy*sH+ky-padTop, ox*sW+kx-padLeft, ci] * w[co,ky,kx,ci]
 * </pre>
 * As a matrix product over the {@code M = N*oH*oW} output pixels and the {@code K = kH*kW*Cin} patch elements:
 * {@code Y[M,Cout] = col(x)[M,K] . W[Cout,K]^T}, hence the gradients
 * {@code dcol = dY . W} (scattered back, "col2im", into {@code dx}), {@code dW = dY^T . col(x)} and
 * {@code db = sum_m dY[m,:]}.
 *
 * <p>Each method has a scalar reference ({@code *Reference}: plain loops over explicit dimensions, no objects,
 * the form TornadoVM compiles) and a fast path (Vector API micro-kernel over the padded input, multi-threaded
 * through {@link Parallel}, buffers from a {@link ConvWorkspace}). Backward methods <em>add</em> into the
 * gradient arrays, so gradients of a tensor read twice accumulate; callers zero them first.
 */
public final class Conv2d {
    private Conv2d() {}

    // ---------------------------------------------------------------- reference

    /** Reference forward: writes {@code y[n,oh,ow,cout]}; {@code bias} may be {@code null}. */
    public static void forwardReference(
            float[] x,
            int n,
            int h,
            int w,
            int cin,
            float[] weight,
            int cout,
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
        checkReference(x, n, h, w, cin, weight, cout, kh, kw, bias, y, oh, ow);
        for (int b = 0; b < n; b++) {
            for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ox < ow; ox++) {
                    int yOff = ((b * oh + oy) * ow + ox) * cout;
                    for (int co = 0; co < cout; co++) {
                        float acc = bias == null ? 0f : bias[co];
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
                                int xOff = ((b * h + iy) * w + ix) * cin;
                                int wOff = ((co * kh + ky) * kw + kx) * cin;
                                for (int ci = 0; ci < cin; ci++) {
                                    acc += x[xOff + ci] * weight[wOff + ci];
                                }
                            }
                        }
                        y[yOff + co] = acc;
                    }
                }
            }
        }
    }

    /** Reference input gradient: {@code dx += col2im(dy . W)}. */
    public static void backwardInputReference(
            float[] dy,
            int n,
            int h,
            int w,
            int cin,
            float[] weight,
            int cout,
            int kh,
            int kw,
            int strideH,
            int strideW,
            int padTop,
            int padLeft,
            float[] dx,
            int oh,
            int ow) {
        checkReference(dx, n, h, w, cin, weight, cout, kh, kw, null, dy, oh, ow);
        for (int b = 0; b < n; b++) {
            for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ox < ow; ox++) {
                    int yOff = ((b * oh + oy) * ow + ox) * cout;
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
                            int xOff = ((b * h + iy) * w + ix) * cin;
                            for (int ci = 0; ci < cin; ci++) {
                                float acc = 0f;
                                for (int co = 0; co < cout; co++) {
                                    acc += dy[yOff + co] * weight[((co * kh + ky) * kw + kx) * cin + ci];
                                }
                                dx[xOff + ci] += acc;
                            }
                        }
                    }
                }
            }
        }
    }

    /** Reference weight gradient: {@code dw += dY^T . col(x)}. */
    public static void backwardWeightReference(
            float[] x,
            float[] dy,
            int n,
            int h,
            int w,
            int cin,
            float[] dw,
            int cout,
            int kh,
            int kw,
            int strideH,
            int strideW,
            int padTop,
            int padLeft,
            int oh,
            int ow) {
        checkReference(x, n, h, w, cin, dw, cout, kh, kw, null, dy, oh, ow);
        for (int co = 0; co < cout; co++) {
            for (int ky = 0; ky < kh; ky++) {
                for (int kx = 0; kx < kw; kx++) {
                    for (int ci = 0; ci < cin; ci++) {
                        float acc = 0f;
                        for (int b = 0; b < n; b++) {
                            for (int oy = 0; oy < oh; oy++) {
                                int iy = oy * strideH + ky - padTop;
                                if (iy < 0 || iy >= h) {
                                    continue;
                                }
                                for (int ox = 0; ox < ow; ox++) {
                                    int ix = ox * strideW + kx - padLeft;
                                    if (ix < 0 || ix >= w) {
                                        continue;
                                    }
                                    acc += x[((b * h + iy) * w + ix) * cin + ci]
                                            * dy[((b * oh + oy) * ow + ox) * cout + co];
                                }
                            }
                        }
                        dw[((co * kh + ky) * kw + kx) * cin + ci] += acc;
                    }
                }
            }
        }
    }

    private static void checkReference(
            float[] x,
            int n,
            int h,
            int w,
            int cin,
            float[] weight,
            int cout,
            int kh,
            int kw,
            float[] bias,
            float[] y,
            int oh,
            int ow) {
        Checks.positive("conv dimensions", n, h, w, cin, cout, kh, kw, oh, ow);
        Checks.length("conv input [N,H,W,Cin]", x, (long) n * h * w * cin, n, h, w, cin);
        Checks.length("conv weight [Cout,kH,kW,Cin]", weight, (long) cout * kh * kw * cin, cout, kh, kw, cin);
        Checks.length("conv output [N,oH,oW,Cout]", y, (long) n * oh * ow * cout, n, oh, ow, cout);
        if (bias != null) {
            Checks.length("conv bias [Cout]", bias, cout, cout);
        }
    }

    // ---------------------------------------------------------------- fast

    /** Fast forward: loads {@code x} into the workspace, then {@link #forwardLoaded}. */
    public static void forward(
            ConvShape s, float[] x, float[] weight, float[] bias, float[] y, ConvWorkspace ws, Parallel par) {
        ws.loadInput(s, x, par);
        forwardLoaded(s, weight, bias, y, ws, par);
    }

    /**
     * Fast forward over the input last loaded into {@code ws}: packs the weights as the GEMM's B operand, then
     * the threads split the output pixels (rows of Y), so no reduction crosses threads.
     */
    public static void forwardLoaded(
            ConvShape s, float[] weight, float[] bias, float[] y, ConvWorkspace ws, Parallel par) {
        checkFast(s, weight, bias, y, ws, par);
        int k = ws.depth;
        int cout = s.outC();
        MicroKernel.packB(true, k, cout, weight, 0, k, ws.packedWeight, 0);
        int pixels = s.outputPixels();
        int tiles = (pixels + MicroKernel.MR - 1) / MicroKernel.MR;
        int panels = MicroKernel.panels(cout);
        float[] in = ws.input;
        par.forRange(tiles, 8, (t, t0, t1) -> {
            int r0 = t0 * MicroKernel.MR;
            int r1 = Math.min(t1 * MicroKernel.MR, pixels);
            MicroKernel.gemm(
                    in,
                    ws.pixelBase,
                    0,
                    0,
                    r0,
                    r1,
                    s.kH(),
                    ws.segStride,
                    ws.run,
                    ws.packedWeight,
                    0,
                    k,
                    0,
                    panels,
                    cout,
                    y,
                    r0 * cout,
                    cout,
                    bias,
                    false,
                    ws.tile[t]);
        });
    }

    /**
     * Fast input gradient, {@code dx += col2im(dY . W)}: the threads split the batch (whole images, so the
     * scatter-adds of different threads never overlap); each computes {@code dY . W} for a chunk of
     * {@link ConvWorkspace#CHUNK} pixels into its scratch and scatters it into the padded gradient.
     */
    public static void backwardInput(
            ConvShape s, float[] dy, float[] weight, float[] dx, ConvWorkspace ws, Parallel par) {
        ws.check(s, par);
        Checks.length("conv output gradient", dy, s.outputSize(), s);
        Checks.length("conv weight [Cout,kH,kW,Cin]", weight, (long) s.outC() * s.patchSize(), s);
        Checks.length("conv input gradient", dx, s.inputSize(), s);
        int k = ws.depth;
        int cout = s.outC();
        MicroKernel.packB(false, cout, k, weight, 0, k, ws.packedWeightT, 0);
        int perImage = s.outH() * s.outW();
        int panels = MicroKernel.panels(k);
        float[] target = ws.paddedGrad != null ? ws.paddedGrad : dx;
        int imageSize = ws.paddedH * ws.paddedW * s.inC();
        par.forRange(s.batch(), (t, n0, n1) -> {
            if (ws.paddedGrad != null) {
                Arrays.fill(target, n0 * imageSize, n1 * imageSize, 0f);
            }
            float[] col = ws.colChunk[t];
            for (int m0 = n0 * perImage; m0 < n1 * perImage; m0 += ConvWorkspace.CHUNK) {
                int len = Math.min(ConvWorkspace.CHUNK, n1 * perImage - m0);
                MicroKernel.gemm(
                        dy,
                        null,
                        m0 * cout,
                        cout,
                        0,
                        len,
                        1,
                        0,
                        cout,
                        ws.packedWeightT,
                        0,
                        cout,
                        0,
                        panels,
                        k,
                        col,
                        0,
                        k,
                        null,
                        false,
                        ws.tile[t]);
                for (int r = 0; r < len; r++) {
                    int base = ws.pixelBase[m0 + r];
                    for (int ky = 0; ky < s.kH(); ky++) {
                        addInto(col, r * k + ky * ws.run, target, base + ky * ws.segStride, ws.run);
                    }
                }
            }
            if (ws.paddedGrad != null) {
                cropAdd(s, ws, n0, n1, dx);
            }
        });
    }

    /** Fast weight gradient: loads {@code x}, then {@link #backwardWeightLoaded}. */
    public static void backwardWeight(ConvShape s, float[] x, float[] dy, float[] dw, ConvWorkspace ws, Parallel par) {
        ws.loadInput(s, x, par);
        backwardWeightLoaded(s, dy, dw, ws, par);
    }

    /**
     * Fast weight gradient over the loaded input, {@code dW[Cout,K] += dY^T . col(x)}: the reduction runs over
     * pixels in chunks; the threads split the K columns (panels of VL), so each owns its slice of {@code dw}
     * and no reduction crosses threads. {@code dY^T} is read in place from the row-major {@code dY}
     * ({@link MicroKernel#gemmTransposedA}: eight output channels of one pixel are one broadcast row), so the
     * gradient is never transposed. Uses the columns packed by {@link ConvWorkspace#packColumns} when present.
     */
    public static void backwardWeightLoaded(ConvShape s, float[] dy, float[] dw, ConvWorkspace ws, Parallel par) {
        ws.check(s, par);
        if (ws.input == null || ws.loadedBatch != s.batch()) {
            throw new IllegalStateException("workspace holds no input of batch " + s.batch());
        }
        Checks.length("conv output gradient", dy, s.outputSize(), s);
        Checks.length("conv weight gradient [Cout,kH,kW,Cin]", dw, (long) s.outC() * s.patchSize(), s);
        int k = ws.depth;
        int cout = s.outC();
        int pixels = s.outputPixels();
        int panels = MicroKernel.panels(k);
        int kPadded = panels * MicroKernel.VL;
        boolean prepacked = ws.packedColumnsBatch == s.batch();
        par.forRange(panels, (t, j0, j1) -> {
            for (int m0 = 0; m0 < pixels; m0 += ConvWorkspace.CHUNK) {
                int len = Math.min(ConvWorkspace.CHUNK, pixels - m0);
                float[] bp;
                int bpOff;
                if (prepacked) {
                    bp = ws.packedColumns;
                    bpOff = m0 * kPadded + j0 * len * MicroKernel.VL;
                } else {
                    bp = ws.colPack[t];
                    bpOff = 0;
                    ws.packColumnChunk(m0, len, j0, j1, bp, 0);
                }
                MicroKernel.gemmTransposedA(
                        dy, m0 * cout, cout, 0, cout, len, bp, bpOff, j0, j1, k, dw, 0, k, true, ws.tile[t]);
            }
        });
    }

    /** Bias gradient {@code db[c] += sum over rows of dy[row, c]} for {@code dy} of {@code rows x channels}. */
    public static void backwardBias(float[] dy, int rows, int channels, float[] db) {
        Elementwise.sumRows(dy, rows, channels, db);
    }

    private static void checkFast(
            ConvShape s, float[] weight, float[] bias, float[] y, ConvWorkspace ws, Parallel par) {
        ws.check(s, par);
        if (ws.input == null || ws.loadedBatch != s.batch()) {
            throw new IllegalStateException("workspace holds no input of batch " + s.batch());
        }
        Checks.length("conv weight [Cout,kH,kW,Cin]", weight, (long) s.outC() * s.patchSize(), s);
        Checks.length("conv output", y, s.outputSize(), s);
        if (bias != null) {
            Checks.length("conv bias [Cout]", bias, s.outC(), s);
        }
    }

    /** {@code dst[dOff + i] += src[sOff + i]} for {@code i < len}, vectorized. */
    static void addInto(float[] src, int sOff, float[] dst, int dOff, int len) {
        int i = 0;
        int vl = MicroKernel.VL;
        for (; i <= len - vl; i += vl) {
            FloatVector.fromArray(MicroKernel.S, dst, dOff + i)
                    .add(FloatVector.fromArray(MicroKernel.S, src, sOff + i))
                    .intoArray(dst, dOff + i);
        }
        for (; i < len; i++) {
            dst[dOff + i] += src[sOff + i];
        }
    }

    /** {@code dst[c*rows + r] = src[off + r*cols + c]}: a {@code rows x cols} block transposed. */
    static void transpose(float[] src, int off, int rows, int cols, float[] dst) {
        for (int r = 0; r < rows; r++) {
            int row = off + r * cols;
            for (int c = 0; c < cols; c++) {
                dst[c * rows + r] = src[row + c];
            }
        }
    }

    /** Adds the interior of the padded gradient of images {@code [n0, n1)} into {@code dx}. */
    private static void cropAdd(ConvShape s, ConvWorkspace ws, int n0, int n1, float[] dx) {
        int c = s.inC();
        int rows = Math.min(s.inH(), ws.paddedH - s.padTop());
        int cols = Math.min(s.inW(), ws.paddedW - s.padLeft());
        for (int n = n0; n < n1; n++) {
            for (int iy = 0; iy < rows; iy++) {
                addInto(
                        ws.paddedGrad,
                        ((n * ws.paddedH + iy + s.padTop()) * ws.paddedW + s.padLeft()) * c,
                        dx,
                        ((n * s.inH() + iy) * s.inW()) * c,
                        cols * c);
            }
        }
    }
}
