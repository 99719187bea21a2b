package io.tinyptq.plugins.optimize;

import io.tinyptq.api.model.Model;
import io.tinyptq.api.model.Op;
import io.tinyptq.api.model.Padding;
import io.tinyptq.api.model.Shape;
import io.tinyptq.plugins.optimize.BitSplitOptimizer.Normal;

/**
 * The input patches of a layer: for output channel {@code o}, the input elements each of its weights multiplies
 * at every output position, in the weight's own element order.
 */
record Patches(Op.Layer layer, Shape in, Shape weight, Shape out, int channels, int padTop, int padLeft) {
    static Patches of(Model m, Op.Layer l) {
        Shape in = m.shape(l.input());
        Shape w = m.constant(l.weight()).shape();
        Shape out = m.shape(l.output());
        int channels = w.dim(l.weightChannelAxis());
        return switch (l) {
            case Op.Conv2D c ->
                new Patches(
                        l,
                        in,
                        w,
                        out,
                        channels,
                        pad(c.padding(), in.dim(0), w.dim(1), c.strideH(), true),
                        pad(c.padding(), in.dim(1), w.dim(2), c.strideW(), false));
            case Op.DepthwiseConv2D c ->
                new Patches(
                        l,
                        in,
                        w,
                        out,
                        channels,
                        pad(c.padding(), in.dim(0), w.dim(0), c.strideH(), true),
                        pad(c.padding(), in.dim(1), w.dim(1), c.strideW(), false));
            case Op.Conv1D c ->
                new Patches(l, in, w, out, channels, 0, pad(c.padding(), in.dim(0), w.dim(1), c.stride(), false));
            case Op.FullyConnected f -> new Patches(l, in, w, out, channels, 0, 0);
        };
    }

    static int pad(Padding p, int in, int k, int s, boolean vertical) {
        return p.before(in, k, s, vertical);
    }

    /** Flat indices of channel {@code o}'s weights. */
    int[] weightIndices(int o) {
        int[] d = weight.dims();
        if (layer instanceof Op.DepthwiseConv2D) {
            int[] idx = new int[d[0] * d[1]];
            for (int k = 0; k < idx.length; k++) {
                idx[k] = k * d[2] + o;
            }
            return idx;
        }
        int row = weight.size() / d[0];
        int[] idx = new int[row];
        for (int k = 0; k < row; k++) {
            idx[k] = o * row + k;
        }
        return idx;
    }

    /** Whether every output channel reads the same patches (all layers but depthwise convolutions). */
    boolean sharedPatches() {
        return !(layer instanceof Op.DepthwiseConv2D);
    }

    /** {@code b = Σ x_q (w_o · x_fp)} alone, over every sample and output position. */
    double[] rhs(float[] xq, float[] xf, int n, int o, float[] w) {
        int[] idx = weightIndices(o);
        int d = idx.length;
        double[] b = new double[d];
        double[] pq = new double[d];
        double[] pf = new double[d];
        int positions = out.size() / out.dim(-1);
        int inSize = in.size();
        for (int s = 0; s < n; s++) {
            for (int pos = 0; pos < positions; pos++) {
                patch(xq, s * inSize, pos, o, pq);
                patch(xf, s * inSize, pos, o, pf);
                double y = 0;
                for (int k = 0; k < d; k++) {
                    y += w[idx[k]] * pf[k];
                }
                for (int i = 0; i < d; i++) {
                    b[i] += pq[i] * y;
                }
            }
        }
        return b;
    }

    /** {@code G = Σ x_q x_qᵀ} and {@code b = Σ x_q (w_o · x_fp)} over every sample and output position. */
    Normal gram(float[] xq, float[] xf, int n, int o, float[] w) {
        return new Normal(gramMatrix(xq, n, o), rhs(xq, xf, n, o, w));
    }

    /** {@code G = Σ x_q x_qᵀ} over every sample and output position of channel {@code o}'s patches. */
    double[][] gramMatrix(float[] xq, int n, int o) {
        int d = weightIndices(o).length;
        double[][] g = new double[d][d];
        double[] pq = new double[d];
        int positions = out.size() / out.dim(-1);
        int inSize = in.size();
        for (int s = 0; s < n; s++) {
            for (int pos = 0; pos < positions; pos++) {
                patch(xq, s * inSize, pos, o, pq);
                for (int i = 0; i < d; i++) {
                    double a = pq[i];
                    if (a == 0) {
                        continue;
                    }
                    double[] gi = g[i];
                    for (int k = i; k < d; k++) {
                        gi[k] += a * pq[k];
                    }
                }
            }
        }
        for (int i = 0; i < d; i++) {
            for (int k = 0; k < i; k++) {
                g[i][k] = g[k][i];
            }
        }
        return g;
    }

    /** The input elements channel {@code o}'s weights meet at output position {@code pos} (zero when padded). */
    void patch(float[] x, int base, int pos, int o, double[] dst) {
        switch (layer) {
            case Op.FullyConnected f -> {
                for (int k = 0; k < dst.length; k++) {
                    dst[k] = x[base + k];
                }
            }
            case Op.Conv1D c -> {
                int cin = in.dim(1);
                int k = weight.dim(1);
                int start = pos * c.stride() - padLeft;
                for (int t = 0; t < k; t++) {
                    int ix = start + t;
                    for (int ci = 0; ci < cin; ci++) {
                        dst[t * cin + ci] = ix < 0 || ix >= in.dim(0) ? 0 : x[base + ix * cin + ci];
                    }
                }
            }
            case Op.Conv2D c -> {
                int ow = out.dim(1);
                int oy = pos / ow;
                int ox = pos % ow;
                int kh = weight.dim(1);
                int kw = weight.dim(2);
                int cin = in.dim(2);
                for (int ky = 0; ky < kh; ky++) {
                    int iy = oy * c.strideH() + ky - padTop;
                    for (int kx = 0; kx < kw; kx++) {
                        int ix = ox * c.strideW() + kx - padLeft;
                        boolean inside = iy >= 0 && iy < in.dim(0) && ix >= 0 && ix < in.dim(1);
                        for (int ci = 0; ci < cin; ci++) {
                            dst[(ky * kw + kx) * cin + ci] = inside ? x[base + (iy * in.dim(1) + ix) * cin + ci] : 0;
                        }
                    }
                }
            }
            case Op.DepthwiseConv2D c -> {
                int ow = out.dim(1);
                int oy = pos / ow;
                int ox = pos % ow;
                int kh = weight.dim(0);
                int kw = weight.dim(1);
                int cin = in.dim(2);
                int ci = o / c.multiplier();
                for (int ky = 0; ky < kh; ky++) {
                    int iy = oy * c.strideH() + ky - padTop;
                    for (int kx = 0; kx < kw; kx++) {
                        int ix = ox * c.strideW() + kx - padLeft;
                        boolean inside = iy >= 0 && iy < in.dim(0) && ix >= 0 && ix < in.dim(1);
                        dst[ky * kw + kx] = inside ? x[base + (iy * in.dim(1) + ix) * cin + ci] : 0;
                    }
                }
            }
        }
    }
}
