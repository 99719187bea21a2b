package io.tinyptq.backend.cpu.kernels;

/**
 * Fully connected layer over a batch: {@code y[n,o] = b[o] + sum_i x[n,i] * w[o,i]}, weight {@code [out, in]}
 * (TFLite's layout), input read as {@code [N, in]} whatever its per-sample shape. Gradients:
 * {@code dx = dy . W}, {@code dW = dy^T . x}, {@code db = sum_n dy[n,:]}; backward methods add into them.
 *
 * <p>The fast paths run the {@link MicroKernel} GEMM with the output features on the vector lanes; threads
 * split row tiles when the batch has enough of them, otherwise column panels, so no reduction crosses threads.
 */
public final class Dense {
    private Dense() {}

    /** Reference forward; {@code bias} may be {@code null}. */
    public static void forwardReference(float[] x, int n, int in, float[] weight, int out, float[] bias, float[] y) {
        check(x, n, in, weight, out, bias, y);
        for (int b = 0; b < n; b++) {
            for (int o = 0; o < out; o++) {
                float acc = bias == null ? 0f : bias[o];
                for (int i = 0; i < in; i++) {
                    acc += x[b * in + i] * weight[o * in + i];
                }
                y[b * out + o] = acc;
            }
        }
    }

    /** Reference input gradient {@code dx += dy . W}. */
    public static void backwardInputReference(float[] dy, int n, int in, float[] weight, int out, float[] dx) {
        check(dx, n, in, weight, out, null, dy);
        for (int b = 0; b < n; b++) {
            for (int i = 0; i < in; i++) {
                float acc = 0f;
                for (int o = 0; o < out; o++) {
                    acc += dy[b * out + o] * weight[o * in + i];
                }
                dx[b * in + i] += acc;
            }
        }
    }

    /** Reference weight gradient {@code dw += dy^T . x}. */
    public static void backwardWeightReference(float[] x, float[] dy, int n, int in, float[] dw, int out) {
        check(x, n, in, dw, out, null, dy);
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) {
                float acc = 0f;
                for (int b = 0; b < n; b++) {
                    acc += dy[b * out + o] * x[b * in + i];
                }
                dw[o * in + i] += acc;
            }
        }
    }

    /** Preallocated buffers of the fast paths for a maximum batch. */
    public static final class Workspace {
        final int maxBatch;
        final int in;
        final int out;
        final float[] packedWeight;
        final float[] packedWeightT;
        final float[] packedInput;
        final float[] gradT;
        final float[][] tile;

        public Workspace(int maxBatch, int in, int out, int threads) {
            Checks.positive("dense workspace dimensions", maxBatch, in, out, threads);
            this.maxBatch = maxBatch;
            this.in = in;
            this.out = out;
            this.packedWeight = new float[MicroKernel.packedSize(in, out)];
            this.packedWeightT = new float[MicroKernel.packedSize(out, in)];
            this.packedInput = new float[MicroKernel.packedSize(maxBatch, in)];
            this.gradT = new float[maxBatch * out];
            this.tile = new float[threads][MicroKernel.TILE];
        }

        void check(int n, int in, int out, Parallel par) {
            if (n > maxBatch || in != this.in || out != this.out || par.threads() > tile.length) {
                throw new IllegalArgumentException("dense workspace [" + maxBatch + "," + this.in + "]->[" + this.out
                        + "] for " + tile.length + " threads cannot run [" + n + "," + in + "]->[" + out + "] with "
                        + par.threads() + " threads");
            }
        }
    }

    /** Fast forward. */
    public static void forward(
            float[] x, int n, int in, float[] weight, int out, float[] bias, float[] y, Workspace ws, Parallel par) {
        check(x, n, in, weight, out, bias, y);
        ws.check(n, in, out, par);
        MicroKernel.packB(true, in, out, weight, 0, in, ws.packedWeight, 0);
        product(x, n, in, ws.packedWeight, out, y, bias, false, ws, par);
    }

    /** Fast input gradient {@code dx += dy . W}. */
    public static void backwardInput(
            float[] dy, int n, int in, float[] weight, int out, float[] dx, Workspace ws, Parallel par) {
        check(dx, n, in, weight, out, null, dy);
        ws.check(n, in, out, par);
        MicroKernel.packB(false, out, in, weight, 0, in, ws.packedWeightT, 0);
        product(dy, n, out, ws.packedWeightT, in, dx, null, true, ws, par);
    }

    /** Fast weight gradient {@code dw += dy^T . x}. */
    public static void backwardWeight(
            float[] x, float[] dy, int n, int in, float[] dw, int out, Workspace ws, Parallel par) {
        check(x, n, in, dw, out, null, dy);
        ws.check(n, in, out, par);
        Conv2d.transpose(dy, 0, n, out, ws.gradT);
        MicroKernel.packB(false, n, in, x, 0, in, ws.packedInput, 0);
        product(ws.gradT, out, n, ws.packedInput, in, dw, null, true, ws, par);
    }

    /** {@code C[rows, cols] (+)= A[rows, depth] . B} with B packed. */
    private static void product(
            float[] a,
            int rows,
            int depth,
            float[] bp,
            int cols,
            float[] c,
            float[] bias,
            boolean accumulate,
            Workspace ws,
            Parallel par) {
        int tiles = (rows + MicroKernel.MR - 1) / MicroKernel.MR;
        int panels = MicroKernel.panels(cols);
        if (tiles >= par.threads() * 2 || panels < 2) {
            par.forRange(tiles, 2, (t, t0, t1) -> {
                int r0 = t0 * MicroKernel.MR;
                int r1 = Math.min(rows, t1 * MicroKernel.MR);
                MicroKernel.gemm(
                        a,
                        null,
                        r0 * depth,
                        depth,
                        0,
                        r1 - r0,
                        1,
                        0,
                        depth,
                        bp,
                        0,
                        depth,
                        0,
                        panels,
                        cols,
                        c,
                        r0 * cols,
                        cols,
                        bias,
                        accumulate,
                        ws.tile[t]);
            });
        } else {
            par.forRange(
                    panels,
                    (t, j0, j1) -> MicroKernel.gemm(
                            a,
                            null,
                            0,
                            depth,
                            0,
                            rows,
                            1,
                            0,
                            depth,
                            bp,
                            j0 * depth * MicroKernel.VL,
                            depth,
                            j0,
                            j1,
                            cols,
                            c,
                            0,
                            cols,
                            bias,
                            accumulate,
                            ws.tile[t]));
        }
    }

    private static void check(float[] x, int n, int in, float[] weight, int out, float[] bias, float[] y) {
        Checks.positive("dense dimensions", n, in, out);
        Checks.length("dense input [N,in]", x, (long) n * in, n, in);
        Checks.length("dense weight [out,in]", weight, (long) out * in, out, in);
        Checks.length("dense output [N,out]", y, (long) n * out, n, out);
        if (bias != null) {
            Checks.length("dense bias [out]", bias, out, out);
        }
    }
}
