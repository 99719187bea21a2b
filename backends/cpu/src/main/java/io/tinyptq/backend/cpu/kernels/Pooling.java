package io.tinyptq.backend.cpu.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

/**
 * Average and max pooling over NHWC windows, and the global mean over the spatial axes.
 *
 * <p>Windows follow {@link ConvShape} (output {@code (oy,ox)} covers input rows {@code oy*sH - padTop + ky});
 * padded positions are <em>skipped</em>, not read as zero: average pooling divides by the number of in-bounds
 * elements of each window, as TFLite does for SAME padding, and max pooling takes the maximum over in-bounds
 * elements. Max pooling's gradient goes to the first maximal element in window scan order
 * ({@code ky}, then {@code kx}). Backward methods add into {@code dx}.
 *
 * <p>Fast forward paths vectorize across channels and split output rows across threads; the backward passes
 * are scalar (they are O(output x window) and memory-bound; pooling is a small part of a tinyML network).
 */
public final class Pooling {
    private Pooling() {}

    /** Reference average pooling. */
    public static void avgForwardReference(
            float[] x,
            int n,
            int h,
            int w,
            int c,
            int kh,
            int kw,
            int strideH,
            int strideW,
            int padTop,
            int padLeft,
            float[] y,
            int oh,
            int ow) {
        check(x, n, h, w, c, y, oh, ow);
        for (int b = 0; b < n; b++) {
            for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ox < ow; ox++) {
                    int y0 = Math.max(oy * strideH - padTop, 0);
                    int y1 = Math.min(oy * strideH - padTop + kh, h);
                    int x0 = Math.max(ox * strideW - padLeft, 0);
                    int x1 = Math.min(ox * strideW - padLeft + kw, w);
                    float inv = 1f / Math.max(1, (y1 - y0) * (x1 - x0));
                    for (int ch = 0; ch < c; ch++) {
                        float acc = 0f;
                        for (int iy = y0; iy < y1; iy++) {
                            for (int ix = x0; ix < x1; ix++) {
                                acc += x[((b * h + iy) * w + ix) * c + ch];
                            }
                        }
                        y[((b * oh + oy) * ow + ox) * c + ch] = acc * inv;
                    }
                }
            }
        }
    }

    /** Reference average-pooling gradient: each window spreads {@code dy / count} over its in-bounds elements. */
    public static void avgBackwardReference(
            float[] dy,
            int n,
            int h,
            int w,
            int c,
            int kh,
            int kw,
            int strideH,
            int strideW,
            int padTop,
            int padLeft,
            float[] dx,
            int oh,
            int ow) {
        check(dx, n, h, w, c, dy, oh, ow);
        for (int b = 0; b < n; b++) {
            for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ox < ow; ox++) {
                    int y0 = Math.max(oy * strideH - padTop, 0);
                    int y1 = Math.min(oy * strideH - padTop + kh, h);
                    int x0 = Math.max(ox * strideW - padLeft, 0);
                    int x1 = Math.min(ox * strideW - padLeft + kw, w);
                    float inv = 1f / Math.max(1, (y1 - y0) * (x1 - x0));
                    for (int ch = 0; ch < c; ch++) {
                        float g = dy[((b * oh + oy) * ow + ox) * c + ch] * inv;
                        for (int iy = y0; iy < y1; iy++) {
                            for (int ix = x0; ix < x1; ix++) {
                                dx[((b * h + iy) * w + ix) * c + ch] += g;
                            }
                        }
                    }
                }
            }
        }
    }

    /** Reference max pooling. */
    public static void maxForwardReference(
            float[] x,
            int n,
            int h,
            int w,
            int c,
            int kh,
            int kw,
            int strideH,
            int strideW,
            int padTop,
            int padLeft,
            float[] y,
            int oh,
            int ow) {
        check(x, n, h, w, c, y, oh, ow);
        for (int b = 0; b < n; b++) {
            for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ox < ow; ox++) {
                    for (int ch = 0; ch < c; ch++) {
                        int arg = argMax(x, b, h, w, c, ch, oy * strideH - padTop, ox * strideW - padLeft, kh, kw);
                        y[((b * oh + oy) * ow + ox) * c + ch] = x[arg];
                    }
                }
            }
        }
    }

    /** Reference max-pooling gradient: {@code dy} goes to the window's first maximal element. */
    public static void maxBackwardReference(
            float[] x,
            float[] dy,
            int n,
            int h,
            int w,
            int c,
            int kh,
            int kw,
            int strideH,
            int strideW,
            int padTop,
            int padLeft,
            float[] dx,
            int oh,
            int ow) {
        check(x, n, h, w, c, dy, oh, ow);
        Checks.length("pool input gradient", dx, (long) n * h * w * c, n, h, w, c);
        for (int b = 0; b < n; b++) {
            for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ox < ow; ox++) {
                    for (int ch = 0; ch < c; ch++) {
                        int arg = argMax(x, b, h, w, c, ch, oy * strideH - padTop, ox * strideW - padLeft, kh, kw);
                        dx[arg] += dy[((b * oh + oy) * ow + ox) * c + ch];
                    }
                }
            }
        }
    }

    private static int argMax(float[] x, int b, int h, int w, int c, int ch, int iy0, int ix0, int kh, int kw) {
        int best = -1;
        for (int iy = Math.max(iy0, 0); iy < Math.min(iy0 + kh, h); iy++) {
            for (int ix = Math.max(ix0, 0); ix < Math.min(ix0 + kw, w); ix++) {
                int i = ((b * h + iy) * w + ix) * c + ch;
                if (best < 0 || x[i] > x[best]) {
                    best = i;
                }
            }
        }
        if (best < 0) {
            throw new IllegalArgumentException(
                    "pooling window at (" + iy0 + "," + ix0 + ") lies outside the " + h + "x" + w + " input");
        }
        return best;
    }

    /** Fast average ({@code max == false}) or max pooling, vectorized across channels. */
    public static void forward(ConvShape s, boolean max, float[] x, float[] y, Parallel par) {
        if (s.outC() != s.inC()) {
            throw new IllegalArgumentException("pooling keeps the channels, got " + s);
        }
        check(x, s.batch(), s.inH(), s.inW(), s.inC(), y, s.outH(), s.outW());
        int c = s.inC();
        int h = s.inH();
        int w = s.inW();
        par.forRange(s.batch() * s.outH(), 4, (t, r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int b = r / s.outH();
                int oy = r % s.outH();
                int y0 = Math.max(oy * s.strideH() - s.padTop(), 0);
                int y1 = Math.min(oy * s.strideH() - s.padTop() + s.kH(), h);
                for (int ox = 0; ox < s.outW(); ox++) {
                    int x0 = Math.max(ox * s.strideW() - s.padLeft(), 0);
                    int x1 = Math.min(ox * s.strideW() - s.padLeft() + s.kW(), w);
                    float inv = 1f / Math.max(1, (y1 - y0) * (x1 - x0));
                    int yo = (r * s.outW() + ox) * c;
                    for (int c0 = 0; c0 < c; c0 += MicroKernel.VL) {
                        VectorMask<Float> mask = MicroKernel.S.indexInRange(c0, c);
                        FloatVector acc = max
                                ? FloatVector.broadcast(MicroKernel.S, Float.NEGATIVE_INFINITY)
                                : FloatVector.zero(MicroKernel.S);
                        for (int iy = y0; iy < y1; iy++) {
                            for (int ix = x0; ix < x1; ix++) {
                                FloatVector v =
                                        FloatVector.fromArray(MicroKernel.S, x, ((b * h + iy) * w + ix) * c + c0, mask);
                                acc = max ? acc.max(v) : acc.add(v);
                            }
                        }
                        (max ? acc : acc.mul(inv)).intoArray(y, yo + c0, mask);
                    }
                }
            }
        });
    }

    /**
     * Average pooling of fake-quantized values {@code x = scale * (q - zero)} as TFLite's int8 kernels compute it on
     * the int8 codes {@code q} ({@code zero} is the int8 zero point; the rounding depends on the codes' sign): the in-bounds sum divided by the in-bounds count, rounded half away from zero, written
     * back as {@code scale * (code - zero)} (the output has the input's quantization).
     */
    public static void averageOfCodes(ConvShape s, float[] x, float scale, float zero, float[] y) {
        check(x, s.batch(), s.inH(), s.inW(), s.inC(), y, s.outH(), s.outW());
        int c = s.inC();
        int h = s.inH();
        int w = s.inW();
        long z = Math.round(zero);
        int o = 0;
        for (int b = 0; b < s.batch(); b++) {
            for (int oy = 0; oy < s.outH(); oy++) {
                int y0 = Math.max(oy * s.strideH() - s.padTop(), 0);
                int y1 = Math.min(oy * s.strideH() - s.padTop() + s.kH(), h);
                for (int ox = 0; ox < s.outW(); ox++) {
                    int x0 = Math.max(ox * s.strideW() - s.padLeft(), 0);
                    int x1 = Math.min(ox * s.strideW() - s.padLeft() + s.kW(), w);
                    long count = Math.max(1, (long) (y1 - y0) * (x1 - x0));
                    for (int ch = 0; ch < c; ch++) {
                        long acc = 0;
                        for (int iy = y0; iy < y1; iy++) {
                            for (int ix = x0; ix < x1; ix++) {
                                acc += Math.round(x[((b * h + iy) * w + ix) * c + ch] / scale) + z;
                            }
                        }
                        long q = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
                        y[o++] = scale * (q - z);
                    }
                }
            }
        }
    }

    /** Reference global mean over the spatial positions: {@code [N, spatial, C] -> [N, C]}. */
    public static void meanReference(float[] x, int n, int spatial, int c, float[] y) {
        Checks.length("mean input [N,spatial,C]", x, (long) n * spatial * c, n, spatial, c);
        Checks.length("mean output [N,C]", y, (long) n * c, n, c);
        float inv = 1f / spatial;
        for (int b = 0; b < n; b++) {
            for (int ch = 0; ch < c; ch++) {
                float acc = 0f;
                for (int p = 0; p < spatial; p++) {
                    acc += x[(b * spatial + p) * c + ch];
                }
                y[b * c + ch] = acc * inv;
            }
        }
    }

    /** Gradient of the global mean: {@code dx[n,p,c] += dy[n,c] / spatial}. */
    public static void meanBackwardReference(float[] dy, int n, int spatial, int c, float[] dx) {
        Checks.length("mean input gradient", dx, (long) n * spatial * c, n, spatial, c);
        Checks.length("mean output gradient", dy, (long) n * c, n, c);
        float inv = 1f / spatial;
        for (int b = 0; b < n; b++) {
            for (int p = 0; p < spatial; p++) {
                for (int ch = 0; ch < c; ch++) {
                    dx[(b * spatial + p) * c + ch] += dy[b * c + ch] * inv;
                }
            }
        }
    }

    /** Fast global mean, vectorized across channels. */
    public static void mean(float[] x, int n, int spatial, int c, float[] y, Parallel par) {
        Checks.length("mean input [N,spatial,C]", x, (long) n * spatial * c, n, spatial, c);
        Checks.length("mean output [N,C]", y, (long) n * c, n, c);
        float inv = 1f / spatial;
        par.forRange(n, 4, (t, b0, b1) -> {
            for (int b = b0; b < b1; b++) {
                for (int c0 = 0; c0 < c; c0 += MicroKernel.VL) {
                    VectorMask<Float> mask = MicroKernel.S.indexInRange(c0, c);
                    FloatVector acc = FloatVector.zero(MicroKernel.S);
                    for (int p = 0; p < spatial; p++) {
                        acc = acc.add(FloatVector.fromArray(MicroKernel.S, x, (b * spatial + p) * c + c0, mask));
                    }
                    acc.mul(inv).intoArray(y, b * c + c0, mask);
                }
            }
        });
    }

    private static void check(float[] x, int n, int h, int w, int c, float[] y, int oh, int ow) {
        Checks.positive("pooling dimensions", n, h, w, c, oh, ow);
        Checks.length("pool input [N,H,W,C]", x, (long) n * h * w * c, n, h, w, c);
        Checks.length("pool output [N,oH,oW,C]", y, (long) n * oh * ow * c, n, oh, ow, c);
    }
}
