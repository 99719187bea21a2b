package io.tinyptq.backend.cpu.kernels;

import static io.tinyptq.backend.cpu.kernels.MicroKernel.S;
import static io.tinyptq.backend.cpu.kernels.MicroKernel.VL;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * Exact coordinate descent over the hard rounding of one output channel of a 2-D convolution whose activated output
 * meets the reconstruction MSE: {@code f(w) = Σ_{n,p} (a(z_{n,p}) - t_{n,p})^2} with {@code z = b + Σ_j w_j x_{n,p,j}}
 * and {@code a} the identity, ReLU or ReLU6 (a clamp to {@code [lo, hi]}).
 *
 * <p>With an activation the loss is not quadratic in the weights, so a flip cannot be judged from a Gram matrix as
 * {@link RoundingSearch} does for a classifier. It can still be judged exactly: the search keeps every element's
 * pre-activation {@code z} and residual {@code e = a(z) - t}; moving weight {@code j} by {@code δ} moves {@code z} by
 * {@code δ x_j} and changes the loss by {@code Σ d (d + 2e)} with {@code d = a(z + δ x_j) - a(z)}, which is
 * {@code (a' - t)^2 - (a - t)^2} written so that it does not cancel. A channel's outputs depend on its weights only,
 * so channels are searched independently. Judging one weight reads every sample's and position's {@code z},
 * {@code e} and input, so a sweep over a layer costs what one forward pass over all samples costs.
 *
 * <p>The input is kept padded and split into stride phases, {@code [n][c][py][px][hh][ww]} with padded row
 * {@code hh*strideH + py} and column {@code ww*strideW + px}: for kernel offset {@code (ky, kx)} the inputs of one
 * output row are then contiguous (phase {@code (ky % strideH, kx % strideW)}, from {@code (oy + ky/strideH,
 * kx/strideW)}) whatever the stride, and vector loops read them directly.
 */
public final class ConvRoundingSearch {
    private ConvRoundingSearch() {
    }

    /**
     * The shapes of one search.
     *
     * @param samples samples {@code N}
     * @param inH     input height, unpadded
     * @param inW     input width, unpadded
     * @param inC     input channels
     * @param kh      kernel height
     * @param kw      kernel width
     * @param strideH vertical stride
     * @param strideW horizontal stride
     * @param padTop  rows of zeros above the input
     * @param padLeft columns of zeros left of the input
     * @param outH    output height
     * @param outW    output width
     */
    public record Geometry(int samples, int inH, int inW, int inC, int kh, int kw, int strideH, int strideW,
                           int padTop, int padLeft, int outH, int outW) {
        public Geometry {
            Checks.positive("rounding search geometry", samples, inH, inW, inC, kh, kw, strideH, strideW, outH, outW);
            if (padTop < 0 || padLeft < 0) {
                throw new IllegalArgumentException("padding must be >= 0, got " + padTop + ", " + padLeft);
            }
        }

        /** Rows of one stride phase: output rows plus what the kernel reaches beyond them. */
        int phaseH() {
            return outH + (kh - 1) / strideH;
        }

        int phaseW() {
            return outW + (kw - 1) / strideW;
        }

        /** Values of one sample's split input. */
        public long splitSize() {
            return (long) inC * strideH * strideW * phaseH() * phaseW();
        }

        /** Elements of one channel's output over all samples. */
        public int channelSize() {
            return samples * outH * outW;
        }

        /** A channel's fan-in: {@code kh * kw * inC} weights, in the OHWI order {@code (ky, kx, c)}. */
        public int fanIn() {
            return kh * kw * inC;
        }

        /** Offset of the first input of output row {@code oy} of sample {@code n} for weight {@code (ky, kx, c)}. */
        int row(int n, int c, int ky, int kx, int oy) {
            int ph = phaseH();
            int pw = phaseW();
            long phase = (((long) n * inC + c) * strideH + ky % strideH) * strideW + kx % strideW;
            return (int) ((phase * ph + oy + ky / strideH) * pw + kx / strideW);
        }
    }

    /**
     * Writes samples {@code [from, from+n)} of an NHWC input ({@code n * inH * inW * inC} values from {@code src})
     * into the padded, phase-split layout ({@link Geometry#splitSize} values per sample); padding stays zero.
     */
    public static void split(float[] src, int n, int from, Geometry g, float[] dst) {
        int ph = g.phaseH();
        int pw = g.phaseW();
        Checks.length("rounding search input", src, (long) n * g.inH() * g.inW() * g.inC(), n, g.inH(), g.inW(), g.inC());
        Checks.length("split input", dst, (from + n) * g.splitSize(), from + n, (int) g.splitSize());
        for (int s = 0; s < n; s++) {
            for (int c = 0; c < g.inC(); c++) {
                for (int py = 0; py < g.strideH(); py++) {
                    for (int px = 0; px < g.strideW(); px++) {
                        long base = ((((long) (from + s) * g.inC() + c) * g.strideH() + py) * g.strideW() + px) * ph * pw;
                        for (int hh = 0; hh < ph; hh++) {
                            int y = hh * g.strideH() + py - g.padTop();
                            if (y < 0 || y >= g.inH()) {
                                continue;
                            }
                            for (int ww = 0; ww < pw; ww++) {
                                int x = ww * g.strideW() + px - g.padLeft();
                                if (x >= 0 && x < g.inW()) {
                                    dst[(int) (base + hh * pw + ww)] = src[((s * g.inH() + y) * g.inW() + x) * g.inC() + c];
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * One channel's pre-activation over all samples: {@code z[n][oy][ox] = bias + Σ_j w_j x_{n,oy,ox,j}} for the
     * channel's weights {@code w} ({@link Geometry#fanIn} values, OHWI order).
     */
    public static void preActivation(float[] x, Geometry g, float[] w, float bias, float[] z) {
        check(x, g, z, "pre-activation");
        Checks.length("channel weights", w, g.fanIn(), g.fanIn());
        java.util.Arrays.fill(z, 0, g.channelSize(), bias);
        for (int ky = 0; ky < g.kh(); ky++) {
            for (int kx = 0; kx < g.kw(); kx++) {
                for (int c = 0; c < g.inC(); c++) {
                    float wj = w[(ky * g.kw() + kx) * g.inC() + c];
                    if (wj == 0f) {
                        continue;
                    }
                    for (int n = 0; n < g.samples(); n++) {
                        for (int oy = 0; oy < g.outH(); oy++) {
                            axpy(wj, x, g.row(n, c, ky, kx, oy), z, (n * g.outH() + oy) * g.outW(), g.outW());
                        }
                    }
                }
            }
        }
    }

    /**
     * Refines one channel's rounding in place.
     *
     * @param x         the split input of all samples
     * @param z         the channel's pre-activation at the current rounding ({@link #preActivation}); updated
     * @param e         the residual {@code a(z) - t} per element; updated
     * @param lo        the activation's lower clamp ({@code -inf} without activation, 0 for ReLU)
     * @param hi        the activation's upper clamp ({@code +inf}, or 6 for ReLU6)
     * @param down      each weight's value when rounded down (on the grid), OHWI order
     * @param up        each weight's value when rounded up
     * @param roundUp   the current rounding of each weight; updated
     * @param maxSweeps most passes over the weights; the search ends earlier after a pass without a flip
     * @return the number of flips kept
     */
    public static int refine(float[] x, Geometry g, float[] z, float[] e, float lo, float hi, float[] down, float[] up,
                             boolean[] roundUp, int maxSweeps) {
        check(x, g, z, "pre-activation");
        check(x, g, e, "residual");
        int d = g.fanIn();
        if (down.length != d || up.length != d || roundUp.length != d) {
            throw new IllegalArgumentException("rounding search over " + d + " weights got " + down.length + ", "
                    + up.length + " and " + roundUp.length + " roundings");
        }
        double loss = 0;
        for (int i = 0; i < g.channelSize(); i++) {
            loss += (double) e[i] * e[i];
        }
        int flips = 0;
        for (int sweep = 0; sweep < maxSweeps; sweep++) {
            int flipsThisSweep = 0;
            for (int ky = 0; ky < g.kh(); ky++) {
                for (int kx = 0; kx < g.kw(); kx++) {
                    for (int c = 0; c < g.inC(); c++) {
                        int j = (ky * g.kw() + kx) * g.inC() + c;
                        float delta = roundUp[j] ? down[j] - up[j] : up[j] - down[j];
                        if (delta == 0f) {
                            continue; // both roundings clamp to the same grid point
                        }
                        double change = change(x, g, c, ky, kx, delta, z, e, lo, hi);
                        // Keep a flip only when it gains clearly more than float rounding in the sums above.
                        if (change < -1e-6 * loss) {
                            apply(x, g, c, ky, kx, delta, z, e, lo, hi);
                            roundUp[j] = !roundUp[j];
                            loss += change;
                            flipsThisSweep++;
                        }
                    }
                }
            }
            flips += flipsThisSweep;
            if (flipsThisSweep == 0) {
                break;
            }
        }
        return flips;
    }

    /**
     * {@code Σ d (d + 2e)} over all outputs for moving weight {@code (ky, kx, c)} by {@code delta}, summed per sample
     * in float lanes and over samples in double. Rows narrower than a vector (8 columns under 16 lanes) end in a
     * masked step: masked-off lanes load zeros, whose {@code d} is 0.
     */
    private static double change(float[] x, Geometry g, int c, int ky, int kx, float delta, float[] z, float[] e,
                                 float lo, float hi) {
        int w = g.outW();
        int upper = S.loopBound(w);
        VectorMask<Float> tail = S.indexInRange(upper, w);
        FloatVector dl = FloatVector.broadcast(S, delta);
        int xStep = g.phaseW();
        long xSample = g.splitSize();
        int x0 = g.row(0, c, ky, kx, 0);
        double sum = 0;
        for (int n = 0; n < g.samples(); n++) {
            FloatVector acc = FloatVector.zero(S);
            int xi = (int) (x0 + n * xSample);
            int zi = n * g.outH() * w;
            for (int oy = 0; oy < g.outH(); oy++, xi += xStep, zi += w) {
                int i = 0;
                for (; i < upper; i += VL) {
                    acc = term(FloatVector.fromArray(S, x, xi + i), FloatVector.fromArray(S, z, zi + i),
                            FloatVector.fromArray(S, e, zi + i), dl, lo, hi, acc);
                }
                if (i < w) {
                    acc = term(FloatVector.fromArray(S, x, xi + i, tail), FloatVector.fromArray(S, z, zi + i, tail),
                            FloatVector.fromArray(S, e, zi + i, tail), dl, lo, hi, acc);
                }
            }
            sum += acc.reduceLanes(VectorOperators.ADD);
        }
        return sum;
    }

    private static FloatVector term(FloatVector xv, FloatVector zv, FloatVector ev, FloatVector delta, float lo,
                                    float hi, FloatVector acc) {
        FloatVector dv = xv.fma(delta, zv).max(lo).min(hi).sub(zv.max(lo).min(hi));
        return dv.fma(dv.add(ev.add(ev)), acc);
    }

    /** Moves every pre-activation by {@code delta x} for weight {@code (ky, kx, c)}, and its residual with it. */
    private static void apply(float[] x, Geometry g, int c, int ky, int kx, float delta, float[] z, float[] e,
                              float lo, float hi) {
        int w = g.outW();
        int upper = S.loopBound(w);
        VectorMask<Float> tail = S.indexInRange(upper, w);
        FloatVector dl = FloatVector.broadcast(S, delta);
        int x0 = g.row(0, c, ky, kx, 0);
        for (int n = 0; n < g.samples(); n++) {
            int xi = (int) (x0 + n * g.splitSize());
            int zi = n * g.outH() * w;
            for (int oy = 0; oy < g.outH(); oy++, xi += g.phaseW(), zi += w) {
                int i = 0;
                for (; i < upper; i += VL) {
                    FloatVector zv = FloatVector.fromArray(S, z, zi + i);
                    FloatVector moved = FloatVector.fromArray(S, x, xi + i).fma(dl, zv);
                    FloatVector dv = moved.max(lo).min(hi).sub(zv.max(lo).min(hi));
                    moved.intoArray(z, zi + i);
                    FloatVector.fromArray(S, e, zi + i).add(dv).intoArray(e, zi + i);
                }
                if (i < w) {
                    FloatVector zv = FloatVector.fromArray(S, z, zi + i, tail);
                    FloatVector moved = FloatVector.fromArray(S, x, xi + i, tail).fma(dl, zv);
                    FloatVector dv = moved.max(lo).min(hi).sub(zv.max(lo).min(hi));
                    moved.intoArray(z, zi + i, tail);
                    FloatVector.fromArray(S, e, zi + i, tail).add(dv).intoArray(e, zi + i, tail);
                }
            }
        }
    }

    /**
     * Refits the channel's step size for its kept integer codes. With the codes {@code q} fixed the weights are
     * {@code s q}, so scaling the step by {@code f} moves every pre-activation to {@code b + f (z - b)} and the loss
     * becomes a function of {@code f} alone, {@code L(f) = Σ (a(b + f (z - b)) - t)^2} with {@code t = a(z) - e},
     * which one pass over the elements evaluates. A grid over {@code [1 - span, 1 + span]} finds the best bracket
     * and a golden-section search narrows it. Where the best factor lowers the loss, {@code z} and {@code e} move to
     * it.
     *
     * @param len  elements ({@link Geometry#channelSize})
     * @param span the relative range searched, e.g. 0.25 for factors in [0.75, 1.25]
     * @return the factor kept: 1 where no factor lowers the loss
     */
    public static double refitScale(float[] z, float[] e, int len, float bias, float lo, float hi, double span) {
        if (z.length < len || e.length < len) {
            throw new IllegalArgumentException("scale refit over " + len + " elements got " + z.length + " and "
                    + e.length);
        }
        if (!(span > 0 && span < 1)) {
            throw new IllegalArgumentException("scale refit span must be in (0, 1), got " + span);
        }
        int steps = 20;
        double h = 2 * span / steps;
        double base = scaledLoss(z, e, len, bias, lo, hi, 1);
        double best = base;
        double bestF = 1;
        for (int k = 0; k <= steps; k++) {
            double f = 1 - span + k * h;
            double l = scaledLoss(z, e, len, bias, lo, hi, f);
            if (l < best) {
                best = l;
                bestF = f;
            }
        }
        // Golden section inside the grid cells either side of the best point.
        double a = bestF - h;
        double b = bestF + h;
        double r = (Math.sqrt(5) - 1) / 2;
        double c = b - r * (b - a);
        double d = a + r * (b - a);
        double lc = scaledLoss(z, e, len, bias, lo, hi, c);
        double ld = scaledLoss(z, e, len, bias, lo, hi, d);
        for (int it = 0; it < 12; it++) {
            if (lc < ld) {
                b = d;
                d = c;
                ld = lc;
                c = b - r * (b - a);
                lc = scaledLoss(z, e, len, bias, lo, hi, c);
            } else {
                a = c;
                c = d;
                lc = ld;
                d = a + r * (b - a);
                ld = scaledLoss(z, e, len, bias, lo, hi, d);
            }
        }
        if (Math.min(lc, ld) < best) {
            best = Math.min(lc, ld);
            bestF = lc < ld ? c : d;
        }
        if (!(best < base * (1 - 1e-6))) {
            return 1;
        }
        float f = (float) bestF;
        for (int i = 0; i < len; i++) {
            float t = Math.min(Math.max(z[i], lo), hi) - e[i];
            z[i] = Math.fma(z[i] - bias, f, bias);
            e[i] = Math.min(Math.max(z[i], lo), hi) - t;
        }
        return f;
    }

    /** {@code Σ (a(b + f (z - b)) - (a(z) - e))^2}, summed in float lanes per 4096 elements and in double over those. */
    static double scaledLoss(float[] z, float[] e, int len, float bias, float lo, float hi, double factor) {
        FloatVector fv = FloatVector.broadcast(S, (float) factor);
        FloatVector bv = FloatVector.broadcast(S, bias);
        double sum = 0;
        for (int start = 0; start < len; start += 4096) {
            int end = Math.min(start + 4096, len);
            int upper = start + S.loopBound(end - start);
            FloatVector acc = FloatVector.zero(S);
            int i = start;
            for (; i < upper; i += VL) {
                FloatVector zv = FloatVector.fromArray(S, z, i);
                FloatVector t = zv.max(lo).min(hi).sub(FloatVector.fromArray(S, e, i));
                FloatVector diff = zv.sub(bv).fma(fv, bv).max(lo).min(hi).sub(t);
                acc = diff.fma(diff, acc);
            }
            double tail = 0;
            for (; i < end; i++) {
                float t = Math.min(Math.max(z[i], lo), hi) - e[i];
                float diff = Math.min(Math.max(Math.fma(z[i] - bias, (float) factor, bias), lo), hi) - t;
                tail += (double) diff * diff;
            }
            sum += acc.reduceLanes(VectorOperators.ADD) + tail;
        }
        return sum;
    }

    private static void axpy(float a, float[] x, int xi, float[] y, int yi, int len) {
        int upper = S.loopBound(len);
        int i = 0;
        for (; i < upper; i += VL) {
            FloatVector.fromArray(S, x, xi + i).fma(FloatVector.broadcast(S, a), FloatVector.fromArray(S, y, yi + i)).intoArray(y, yi + i);
        }
        if (i < len) {
            VectorMask<Float> m = S.indexInRange(i, len);
            FloatVector.fromArray(S, x, xi + i, m).fma(FloatVector.broadcast(S, a), FloatVector.fromArray(S, y, yi + i, m)).intoArray(y, yi + i, m);
        }
    }

    private static void check(float[] x, Geometry g, float[] channel, String what) {
        Checks.length("split input", x, g.samples() * g.splitSize(), g.samples(), (int) g.splitSize());
        Checks.length(what, channel, g.channelSize(), g.samples(), g.outH(), g.outW());
    }
}
