package io.tinyptq.backend.cpu.kernels;

import java.util.Arrays;

/**
 * Zero padding of an NHWC batch along H, W and C (the api's {@code Pad} op on a per-sample {@code [H,W,C]}
 * shape; rank-2 {@code [W,C]} samples use {@code h = 1} and no vertical padding). The gradient is the crop of
 * the output gradient. Both are copies of contiguous channel runs ({@link System#arraycopy}), so the reference
 * path is also the fast one.
 */
public final class Pad {
    private Pad() {}

    /** {@code y[n, top+iy, left+ix, front+c] = x[n,iy,ix,c]}, zero elsewhere. */
    public static void forward(
            float[] x,
            int n,
            int h,
            int w,
            int c,
            int top,
            int bottom,
            int left,
            int right,
            int front,
            int back,
            float[] y) {
        int oh = h + top + bottom;
        int ow = w + left + right;
        int oc = c + front + back;
        check(x, n, h, w, c, y, oh, ow, oc, top, bottom, left, right, front, back);
        Arrays.fill(y, 0, n * oh * ow * oc, 0f);
        for (int b = 0; b < n; b++) {
            for (int iy = 0; iy < h; iy++) {
                for (int ix = 0; ix < w; ix++) {
                    System.arraycopy(
                            x, ((b * h + iy) * w + ix) * c, y, ((b * oh + iy + top) * ow + ix + left) * oc + front, c);
                }
            }
        }
    }

    /** Gradient: {@code dx[n,iy,ix,c] += dy[n, top+iy, left+ix, front+c]}. */
    public static void backward(
            float[] dy,
            int n,
            int h,
            int w,
            int c,
            int top,
            int bottom,
            int left,
            int right,
            int front,
            int back,
            float[] dx) {
        int oh = h + top + bottom;
        int ow = w + left + right;
        int oc = c + front + back;
        check(dx, n, h, w, c, dy, oh, ow, oc, top, bottom, left, right, front, back);
        for (int b = 0; b < n; b++) {
            for (int iy = 0; iy < h; iy++) {
                for (int ix = 0; ix < w; ix++) {
                    int src = ((b * oh + iy + top) * ow + ix + left) * oc + front;
                    int dst = ((b * h + iy) * w + ix) * c;
                    for (int ch = 0; ch < c; ch++) {
                        dx[dst + ch] += dy[src + ch];
                    }
                }
            }
        }
    }

    private static void check(float[] x, int n, int h, int w, int c, float[] y, int oh, int ow, int oc, int... pads) {
        Checks.positive("pad input dimensions", n, h, w, c);
        for (int p : pads) {
            if (p < 0) {
                throw new IllegalArgumentException("padding amounts must be >= 0, got " + Arrays.toString(pads));
            }
        }
        Checks.length("pad input [N,H,W,C]", x, (long) n * h * w * c, n, h, w, c);
        Checks.length("pad output [N,H',W',C']", y, (long) n * oh * ow * oc, n, oh, ow, oc);
    }
}
