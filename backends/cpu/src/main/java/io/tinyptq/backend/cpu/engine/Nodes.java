package io.tinyptq.backend.cpu.engine;

import io.tinyptq.backend.cpu.kernels.ActivationMse;
import io.tinyptq.backend.cpu.kernels.Conv2d;
import io.tinyptq.backend.cpu.kernels.ConvShape;
import io.tinyptq.backend.cpu.kernels.ConvWorkspace;
import io.tinyptq.backend.cpu.kernels.Dense;
import io.tinyptq.backend.cpu.kernels.DepthwiseConv2d;
import io.tinyptq.backend.cpu.kernels.Elementwise;
import io.tinyptq.backend.cpu.kernels.Losses;
import io.tinyptq.backend.cpu.kernels.Pad;
import io.tinyptq.backend.cpu.kernels.Parallel;
import io.tinyptq.backend.cpu.kernels.Pooling;
import java.util.Arrays;

/** The node types of {@link Graph}; each owns the workspaces its kernels need, allocated at construction. */
final class Nodes {
    private Nodes() {}

    static final class Conv extends Node {
        final ConvShape one;
        final ConvWorkspace ws;
        final Parallel par;

        Conv(Value x, Value w, Value b, ConvShape one, int maxBatch, Parallel par) {
            super(x, w, b);
            this.one = one;
            this.ws = new ConvWorkspace(one.withBatch(maxBatch), par.threads());
            this.par = par;
        }

        /** Batch size whose input {@link Graph#loadInput} put straight into the workspace, or -1. */
        int preloaded = -1;

        @Override
        void forward(int n) {
            ConvShape s = one.withBatch(n);
            if (preloaded != n) {
                ws.loadInput(s, inputs[0].data, par);
            }
            preloaded = -1;
            Conv2d.forwardLoaded(s, inputs[1].data, inputs[2] == null ? null : inputs[2].data, out.data, ws, par);
        }

        @Override
        void backward(int n) {
            ConvShape s = one.withBatch(n);
            if (needs(inputs[0])) {
                Conv2d.backwardInput(s, out.grad, inputs[1].data, inputs[0].grad, ws, par);
            }
            if (needs(inputs[1])) {
                Conv2d.backwardWeightLoaded(s, out.grad, inputs[1].grad, ws, par);
            }
            if (needs(inputs[2])) {
                Elementwise.sumRows(out.grad, s.outputPixels(), s.outC(), inputs[2].grad);
            }
        }
    }

    /**
     * A convolution, an optional ReLU/ReLU6 and the MSE against a target as one scalar-valued node (the tail of a
     * layer's reconstruction), so the activation, loss and gradient passes and the gradient transpose fuse into
     * {@link ActivationMse}'s two passes. The convolution's output and its gradients are private buffers. The
     * result equals {@code mse(clamp(conv2d(x, w, b)), target)} built from separate nodes.
     */
    static final class ConvMse extends Node {
        final ConvShape one;
        final ConvWorkspace ws;
        final Parallel par;
        final boolean activation;
        final float cap;
        final float[] y;
        final float[] dy;
        final double[] partial;

        ConvMse(
                Value x,
                Value w,
                Value b,
                Value target,
                ConvShape one,
                boolean activation,
                float cap,
                int maxBatch,
                Parallel par) {
            super(x, w, b, target);
            this.one = one;
            this.ws = new ConvWorkspace(one.withBatch(maxBatch), par.threads());
            this.par = par;
            this.activation = activation;
            this.cap = cap;
            this.y = new float[one.outputSize() * maxBatch];
            this.dy = new float[y.length];
            this.partial = new double[maxBatch];
        }

        /** Batch size whose input {@link Graph#loadInput} put straight into the workspace, or -1. */
        int preloaded = -1;

        @Override
        void forward(int n) {
            ConvShape s = one.withBatch(n);
            if (preloaded != n) {
                ws.loadInput(s, inputs[0].data, par);
            }
            preloaded = -1;
            Conv2d.forwardLoaded(s, inputs[1].data, inputs[2] == null ? null : inputs[2].data, y, ws, par);
            out.data[0] = ActivationMse.loss(y, inputs[3].data, n, one.outputSize(), activation, cap, partial, par);
        }

        @Override
        void backward(int n) {
            ConvShape s = one.withBatch(n);
            ActivationMse.gradient(y, inputs[3].data, s.outputSize(), activation, cap, out.grad[0], dy, par);
            if (needs(inputs[1])) {
                Conv2d.backwardWeightLoaded(s, dy, inputs[1].grad, ws, par);
            }
            if (needs(inputs[0])) {
                Conv2d.backwardInput(s, dy, inputs[1].data, inputs[0].grad, ws, par);
            }
            if (needs(inputs[2])) {
                Elementwise.sumRows(dy, s.outputPixels(), s.outC(), inputs[2].grad);
            }
            if (needs(inputs[3])) {
                // d/dt (a - t)^2 = -(d/da): the target's gradient is the unmasked difference with the sign flipped
                float scale = -2f * out.grad[0] / s.outputSize();
                float[] t = inputs[3].data;
                float[] dt = inputs[3].grad;
                for (int i = 0; i < s.outputSize(); i++) {
                    float a = activation ? Math.min(Math.max(y[i], 0f), cap) : y[i];
                    dt[i] += scale * (a - t[i]);
                }
            }
        }
    }

    static final class Depthwise extends Node {
        final ConvShape one;
        final DepthwiseConv2d.Workspace ws;
        final Parallel par;

        Depthwise(Value x, Value w, Value b, ConvShape one, int maxBatch, Parallel par) {
            super(x, w, b);
            this.one = one;
            this.ws = new DepthwiseConv2d.Workspace(one.withBatch(maxBatch));
            this.par = par;
        }

        @Override
        void forward(int n) {
            DepthwiseConv2d.forward(
                    one.withBatch(n),
                    inputs[0].data,
                    inputs[1].data,
                    inputs[2] == null ? null : inputs[2].data,
                    out.data,
                    ws,
                    par);
        }

        @Override
        void backward(int n) {
            ConvShape s = one.withBatch(n);
            if (needs(inputs[0])) {
                DepthwiseConv2d.backwardInput(s, out.grad, inputs[1].data, inputs[0].grad, ws, par);
            }
            if (needs(inputs[1])) {
                DepthwiseConv2d.backwardWeightLoaded(s, out.grad, inputs[1].grad, ws, par);
            }
            if (needs(inputs[2])) {
                Elementwise.sumRows(out.grad, s.outputPixels(), s.outC(), inputs[2].grad);
            }
        }
    }

    static final class FullyConnected extends Node {
        final int in;
        final int outFeatures;
        final Dense.Workspace ws;
        final Parallel par;

        FullyConnected(Value x, Value w, Value b, int maxBatch, Parallel par) {
            super(x, w, b);
            this.in = x.sampleSize;
            this.outFeatures = w.dim(0);
            this.ws = new Dense.Workspace(maxBatch, in, outFeatures, par.threads());
            this.par = par;
        }

        @Override
        void forward(int n) {
            Dense.forward(
                    inputs[0].data,
                    n,
                    in,
                    inputs[1].data,
                    outFeatures,
                    inputs[2] == null ? null : inputs[2].data,
                    out.data,
                    ws,
                    par);
        }

        @Override
        void backward(int n) {
            if (needs(inputs[0])) {
                Dense.backwardInput(out.grad, n, in, inputs[1].data, outFeatures, inputs[0].grad, ws, par);
            }
            if (needs(inputs[1])) {
                Dense.backwardWeight(inputs[0].data, out.grad, n, in, inputs[1].grad, outFeatures, ws, par);
            }
            if (needs(inputs[2])) {
                Elementwise.sumRows(out.grad, n, outFeatures, inputs[2].grad);
            }
        }
    }

    static final class Add extends Node {
        final Parallel par;

        Add(Value a, Value b, Parallel par) {
            super(a, b);
            this.par = par;
        }

        @Override
        void forward(int n) {
            Elementwise.add(inputs[0].data, 0, inputs[1].data, 0, out.data, 0, out.size(n), par);
        }

        @Override
        void backward(int n) {
            for (Value v : inputs) {
                if (needs(v)) {
                    Elementwise.accumulate(out.grad, 0, v.grad, 0, out.size(n), par);
                }
            }
        }
    }

    /**
     * QDrop's random mix (Wei et al. 2022): each element is {@code a}'s with probability {@link #probability} and
     * else {@code b}'s, drawn anew on every forward pass; while not {@link #active} the output is {@code a}. The
     * draw of element {@code i} in pass {@code t} is SplitMix64's output for counter {@code seed + t * 2^32 + i},
     * so it does not depend on how the elements are split among threads. The gradient flows to the chosen
     * operand only.
     */
    static final class RandomSelect extends Node {
        private static final long GOLDEN = 0x9E3779B97F4A7C15L;
        final float probability;
        final boolean[] fromA;
        final long seed;
        final Parallel par;
        long passes;
        boolean active;

        RandomSelect(Value a, Value b, float probability, long seed, int capacity, Parallel par) {
            super(a, b);
            this.probability = probability;
            this.fromA = new boolean[capacity];
            this.seed = seed;
            this.par = par;
        }

        static long mix(long z) {
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            return z ^ (z >>> 31);
        }

        @Override
        void forward(int n) {
            int size = out.size(n);
            float[] x = inputs[0].data;
            float[] y = inputs[1].data;
            float[] o = out.data;
            if (!active) {
                System.arraycopy(x, 0, o, 0, size);
                java.util.Arrays.fill(fromA, 0, size, true);
                return;
            }
            long base = seed + (passes++ << 32);
            float p = probability;
            par.forRange(size, 8192, (t, i0, i1) -> {
                for (int i = i0; i < i1; i++) {
                    boolean pick = (mix((base + i) * GOLDEN) >>> 40) * 0x1.0p-24f < p;
                    fromA[i] = pick;
                    o[i] = pick ? x[i] : y[i];
                }
            });
        }

        @Override
        void backward(int n) {
            int size = out.size(n);
            float[] g = out.grad;
            float[] ga = needs(inputs[0]) ? inputs[0].grad : null;
            float[] gb = needs(inputs[1]) ? inputs[1].grad : null;
            par.forRange(size, 8192, (t, i0, i1) -> {
                for (int i = i0; i < i1; i++) {
                    if (fromA[i]) {
                        if (ga != null) {
                            ga[i] += g[i];
                        }
                    } else if (gb != null) {
                        gb[i] += g[i];
                    }
                }
            });
        }
    }

    /** ReLU ({@code cap = +inf}) or ReLU6 ({@code cap = 6}). */
    static final class Clamp extends Node {
        final float cap;
        final Parallel par;

        Clamp(Value x, float cap, Parallel par) {
            super(x);
            this.cap = cap;
            this.par = par;
        }

        @Override
        void forward(int n) {
            Elementwise.clamp(inputs[0].data, 0, out.data, 0, out.size(n), cap, par);
        }

        @Override
        void backward(int n) {
            if (needs(inputs[0])) {
                Elementwise.clampBackward(inputs[0].data, 0, out.grad, 0, inputs[0].grad, 0, out.size(n), cap, par);
            }
        }
    }

    /**
     * Batch normalization over the last axis (see {@link io.tinyptq.backend.cpu.kernels.BatchNorm}). In training
     * mode it normalizes with the batch's statistics and moves the running mean and variance (parameters that are
     * never trained) toward them; otherwise it is the affine of the running statistics.
     */
    static final class BatchNormNode extends Node {
        final int channels;
        final float eps;
        final float momentum;
        final float[] xhat;
        final float[] mean;
        final float[] var;
        final float[] invStd;
        final float[] a;
        final float[] b;
        final double[] acc;
        boolean training;
        /** Whether the last forward pass used batch statistics (the backward pass must match it). */
        private boolean lastTraining;

        BatchNormNode(
                Value x,
                Value gamma,
                Value beta,
                Value runningMean,
                Value runningVar,
                float eps,
                float momentum,
                int maxBatch) {
            super(x, gamma, beta, runningMean, runningVar);
            this.channels = x.dim(-1);
            this.eps = eps;
            this.momentum = momentum;
            this.xhat = new float[x.sampleSize * maxBatch];
            this.mean = new float[channels];
            this.var = new float[channels];
            this.invStd = new float[channels];
            this.a = new float[channels];
            this.b = new float[channels];
            this.acc = new double[2 * channels];
        }

        @Override
        void forward(int n) {
            int rows = inputs[0].size(n) / channels;
            lastTraining = training;
            if (training) {
                io.tinyptq.backend.cpu.kernels.BatchNorm.forwardTraining(
                        inputs[0].data,
                        rows,
                        channels,
                        inputs[1].data,
                        inputs[2].data,
                        eps,
                        mean,
                        var,
                        invStd,
                        xhat,
                        out.data,
                        acc);
                io.tinyptq.backend.cpu.kernels.BatchNorm.updateRunning(inputs[3].data, mean, momentum);
                io.tinyptq.backend.cpu.kernels.BatchNorm.updateRunning(inputs[4].data, var, momentum);
            } else {
                io.tinyptq.backend.cpu.kernels.BatchNorm.affine(
                        inputs[1].data, inputs[2].data, inputs[3].data, inputs[4].data, eps, a, b);
                io.tinyptq.backend.cpu.kernels.BatchNorm.forwardAffine(inputs[0].data, rows, channels, a, b, out.data);
            }
        }

        @Override
        void backward(int n) {
            int rows = inputs[0].size(n) / channels;
            float[] dx = needs(inputs[0]) ? inputs[0].grad : null;
            float[] dgamma = needs(inputs[1]) ? inputs[1].grad : null;
            float[] dbeta = needs(inputs[2]) ? inputs[2].grad : null;
            if (lastTraining) {
                io.tinyptq.backend.cpu.kernels.BatchNorm.backwardTraining(
                        out.grad, xhat, invStd, inputs[1].data, rows, channels, dx, dgamma, dbeta, acc);
                return;
            }
            // Inference form y = gamma (x - m) / s + beta with fixed m, s: dx = dy a, dgamma = Σ dy (x - m) / s.
            float[] x = inputs[0].data;
            float[] m = inputs[3].data;
            float[] v = inputs[4].data;
            for (int r = 0; r < rows; r++) {
                int o = r * channels;
                for (int k = 0; k < channels; k++) {
                    float dy = out.grad[o + k];
                    if (dx != null) {
                        dx[o + k] += dy * a[k];
                    }
                    if (dgamma != null) {
                        dgamma[k] += (float) (dy * (x[o + k] - m[k]) / Math.sqrt((double) v[k] + eps));
                    }
                    if (dbeta != null) {
                        dbeta[k] += dy;
                    }
                }
            }
        }
    }

    static final class Pool extends Node {
        final ConvShape one;
        final boolean max;
        final Parallel par;

        Pool(Value x, ConvShape one, boolean max, Parallel par) {
            super(x);
            this.one = one;
            this.max = max;
            this.par = par;
        }

        @Override
        void forward(int n) {
            Pooling.forward(one.withBatch(n), max, inputs[0].data, out.data, par);
        }

        @Override
        void backward(int n) {
            if (!needs(inputs[0])) {
                return;
            }
            ConvShape s = one;
            if (max) {
                Pooling.maxBackwardReference(
                        inputs[0].data,
                        out.grad,
                        n,
                        s.inH(),
                        s.inW(),
                        s.inC(),
                        s.kH(),
                        s.kW(),
                        s.strideH(),
                        s.strideW(),
                        s.padTop(),
                        s.padLeft(),
                        inputs[0].grad,
                        s.outH(),
                        s.outW());
            } else {
                Pooling.avgBackwardReference(
                        out.grad,
                        n,
                        s.inH(),
                        s.inW(),
                        s.inC(),
                        s.kH(),
                        s.kW(),
                        s.strideH(),
                        s.strideW(),
                        s.padTop(),
                        s.padLeft(),
                        inputs[0].grad,
                        s.outH(),
                        s.outW());
            }
        }
    }

    static final class Mean extends Node {
        final int spatial;
        final int channels;
        final Parallel par;

        Mean(Value x, Parallel par) {
            super(x);
            this.channels = x.dim(-1);
            this.spatial = x.sampleSize / channels;
            this.par = par;
        }

        @Override
        void forward(int n) {
            Pooling.mean(inputs[0].data, n, spatial, channels, out.data, par);
        }

        @Override
        void backward(int n) {
            if (needs(inputs[0])) {
                Pooling.meanBackwardReference(out.grad, n, spatial, channels, inputs[0].grad);
            }
        }
    }

    /** Zero padding of {@code [H,W,C]} samples ({@code [W,C]} samples are read as {@code H = 1}). */
    static final class ZeroPad extends Node {
        final int h;
        final int w;
        final int c;
        final int[] p; // top, bottom, left, right, front, back

        ZeroPad(Value x, int h, int w, int c, int[] p) {
            super(x);
            this.h = h;
            this.w = w;
            this.c = c;
            this.p = p.clone();
        }

        @Override
        void forward(int n) {
            Pad.forward(inputs[0].data, n, h, w, c, p[0], p[1], p[2], p[3], p[4], p[5], out.data);
        }

        @Override
        void backward(int n) {
            if (needs(inputs[0])) {
                Pad.backward(out.grad, n, h, w, c, p[0], p[1], p[2], p[3], p[4], p[5], inputs[0].grad);
            }
        }
    }

    static final class Softmax extends Node {
        Softmax(Value x) {
            super(x);
        }

        @Override
        void forward(int n) {
            int c = out.dim(-1);
            Losses.softmax(inputs[0].data, out.size(n) / c, c, out.data);
        }

        @Override
        void backward(int n) {
            if (needs(inputs[0])) {
                int c = out.dim(-1);
                Losses.softmaxBackward(out.data, out.grad, out.size(n) / c, c, inputs[0].grad);
            }
        }
    }

    static int[] concat(int[] a, int[] b) {
        int[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
