package io.tinyptq.backend.cpu;

import io.tinyptq.backend.cpu.kernels.ConvShape;

/**
 * Forward pooling, mean, pad and softmax as plain loops over NHWC arrays. These ops are a negligible share of
 * a tinyML model's time next to the convolutions.
 */
final class Pooling {
    private Pooling() {
    }

    /**
     * Max or average pooling of window {@code kH x kW}; average divides by the number of in-bounds elements
     * (TFLite's SAME average pooling), max ignores padding.
     */
    static void pool(ConvShape s, float[] x, float[] y, boolean max) {
        int c = s.inC();
        for (int b = 0; b < s.batch(); b++) {
            int xb = b * s.inH() * s.inW() * c;
            int yb = b * s.outH() * s.outW() * c;
            for (int oy = 0; oy < s.outH(); oy++) {
                for (int ox = 0; ox < s.outW(); ox++) {
                    int yo = yb + (oy * s.outW() + ox) * c;
                    for (int ch = 0; ch < c; ch++) {
                        y[yo + ch] = max ? Float.NEGATIVE_INFINITY : 0f;
                    }
                    int count = 0;
                    for (int ky = 0; ky < s.kH(); ky++) {
                        int iy = oy * s.strideH() + ky - s.padTop();
                        if (iy < 0 || iy >= s.inH()) {
                            continue;
                        }
                        for (int kx = 0; kx < s.kW(); kx++) {
                            int ix = ox * s.strideW() + kx - s.padLeft();
                            if (ix < 0 || ix >= s.inW()) {
                                continue;
                            }
                            count++;
                            int xo = xb + (iy * s.inW() + ix) * c;
                            for (int ch = 0; ch < c; ch++) {
                                y[yo + ch] = max ? Math.max(y[yo + ch], x[xo + ch]) : y[yo + ch] + x[xo + ch];
                            }
                        }
                    }
                    if (!max) {
                        float inv = 1f / count;
                        for (int ch = 0; ch < c; ch++) {
                            y[yo + ch] *= inv;
                        }
                    }
                }
            }
        }
    }

    /** Mean over {@code pixels} positions of {@code c} channels per sample. */
    static void mean(float[] x, int n, int pixels, int c, float[] y) {
        for (int b = 0; b < n; b++) {
            for (int ch = 0; ch < c; ch++) {
                double acc = 0;
                for (int p = 0; p < pixels; p++) {
                    acc += x[(b * pixels + p) * c + ch];
                }
                y[b * c + ch] = (float) (acc / pixels);
            }
        }
    }

    /** Zero padding of per-sample tensors of shape {@code in} into shape {@code out}. */
    static void pad(float[] x, int n, int[] in, int[] out, int[] before, float[] y) {
        int inSize = 1;
        int outSize = 1;
        for (int d = 0; d < in.length; d++) {
            inSize *= in[d];
            outSize *= out[d];
        }
        java.util.Arrays.fill(y, 0, n * outSize, 0f);
        for (int b = 0; b < n; b++) {
            for (int i = 0; i < inSize; i++) {
                int rem = i;
                int o = 0;
                int stride = 1;
                for (int d = in.length - 1; d >= 0; d--) {
                    o += (rem % in[d] + before[d]) * stride;
                    rem /= in[d];
                    stride *= out[d];
                }
                y[b * outSize + o] = x[b * inSize + i];
            }
        }
    }

    /** Softmax over the last axis of {@code rows x c}. */
    static void softmax(float[] x, int rows, int c, float[] y) {
        for (int r = 0; r < rows; r++) {
            float max = Float.NEGATIVE_INFINITY;
            for (int i = 0; i < c; i++) {
                max = Math.max(max, x[r * c + i]);
            }
            double sum = 0;
            for (int i = 0; i < c; i++) {
                sum += Math.exp(x[r * c + i] - max);
            }
            for (int i = 0; i < c; i++) {
                y[r * c + i] = (float) (Math.exp(x[r * c + i] - max) / sum);
            }
        }
    }
}
