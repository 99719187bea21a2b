package io.tinyptq.backend.cpu.kernels;

/**
 * 1-D convolution over {@code [N, W, Cin]} with weight {@code [Cout, k, Cin]}: exactly a {@link Conv2d} with
 * {@code H = kH = strideH = 1} and no vertical padding, since {@code [Cout, k, Cin]} and
 * {@code [Cout, 1, k, Cin]} are the same bytes. The fast paths take a {@link ConvShape#conv1d} geometry and a
 * {@link ConvWorkspace} and run the conv2d code unchanged.
 */
public final class Conv1d {
    private Conv1d() {}

    /** Reference forward ({@code padLeft} zero columns before the first input column). */
    public static void forwardReference(
            float[] x,
            int n,
            int w,
            int cin,
            float[] weight,
            int cout,
            int k,
            float[] bias,
            int stride,
            int padLeft,
            float[] y,
            int ow) {
        Conv2d.forwardReference(x, n, 1, w, cin, weight, cout, 1, k, bias, 1, stride, 0, padLeft, y, 1, ow);
    }

    /** Reference input gradient (adds into {@code dx}). */
    public static void backwardInputReference(
            float[] dy,
            int n,
            int w,
            int cin,
            float[] weight,
            int cout,
            int k,
            int stride,
            int padLeft,
            float[] dx,
            int ow) {
        Conv2d.backwardInputReference(dy, n, 1, w, cin, weight, cout, 1, k, 1, stride, 0, padLeft, dx, 1, ow);
    }

    /** Reference weight gradient (adds into {@code dw}). */
    public static void backwardWeightReference(
            float[] x,
            float[] dy,
            int n,
            int w,
            int cin,
            float[] dw,
            int cout,
            int k,
            int stride,
            int padLeft,
            int ow) {
        Conv2d.backwardWeightReference(x, dy, n, 1, w, cin, dw, cout, 1, k, 1, stride, 0, padLeft, 1, ow);
    }

    /** Fast forward; {@code s} must be one-dimensional ({@link ConvShape#conv1d}). */
    public static void forward(
            ConvShape s, float[] x, float[] weight, float[] bias, float[] y, ConvWorkspace ws, Parallel par) {
        require1d(s);
        Conv2d.forward(s, x, weight, bias, y, ws, par);
    }

    /** Fast input gradient (adds into {@code dx}). */
    public static void backwardInput(
            ConvShape s, float[] dy, float[] weight, float[] dx, ConvWorkspace ws, Parallel par) {
        require1d(s);
        Conv2d.backwardInput(s, dy, weight, dx, ws, par);
    }

    /** Fast weight gradient (adds into {@code dw}). */
    public static void backwardWeight(ConvShape s, float[] x, float[] dy, float[] dw, ConvWorkspace ws, Parallel par) {
        require1d(s);
        Conv2d.backwardWeight(s, x, dy, dw, ws, par);
    }

    private static void require1d(ConvShape s) {
        if (s.inH() != 1 || s.kH() != 1 || s.outH() != 1) {
            throw new IllegalArgumentException("conv1d needs a one-dimensional geometry, got " + s);
        }
    }
}
