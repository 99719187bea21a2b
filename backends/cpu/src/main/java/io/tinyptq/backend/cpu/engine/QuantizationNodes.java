package io.tinyptq.backend.cpu.engine;

import io.tinyptq.api.quant.IntegerGrid;
import io.tinyptq.backend.cpu.kernels.AdaRound;
import io.tinyptq.backend.cpu.kernels.FakeQuant;
import io.tinyptq.backend.cpu.kernels.Parallel;

/** Graph nodes of the quantizers: fake quantization (LSQ gradients), AdaRound's rounding and its regularizer. */
final class QuantizationNodes {
    private QuantizationNodes() {}

    /**
     * Fake quantization (Eq. 1) of a batched activation or an unbatched weight, per tensor ({@code axis < 0}) or
     * per channel along {@code axis} (an axis of the value's shape: per-sample for activations).
     */
    static final class Quantize extends Node {
        final float qmin;
        final float qmax;
        final int axis;
        final boolean lsqScale;
        final Parallel par;

        Quantize(Value x, Value scale, Value zero, IntegerGrid grid, int axis, boolean lsqScale, Parallel par) {
            super(x, scale, zero);
            this.qmin = grid.n();
            this.qmax = grid.p();
            this.axis = axis;
            this.lsqScale = lsqScale;
            this.par = par;
        }

        /** {outer, channels, inner} for a batch of n. */
        private int[] view(int n) {
            Value x = inputs[0];
            if (axis < 0) {
                return new int[] {1, 1, x.size(n)};
            }
            int outer = x.batched ? n : 1;
            for (int i = 0; i < axis; i++) {
                outer *= x.shape[i];
            }
            int inner = 1;
            for (int i = axis + 1; i < x.rank(); i++) {
                inner *= x.shape[i];
            }
            return new int[] {outer, x.shape[axis], inner};
        }

        @Override
        void forward(int n) {
            int[] v = view(n);
            FakeQuant.forward(
                    inputs[0].data,
                    0,
                    v[0],
                    v[1],
                    v[2],
                    inputs[1].data,
                    inputs[2] == null ? null : inputs[2].data,
                    qmin,
                    qmax,
                    out.data,
                    0,
                    par);
        }

        @Override
        void backward(int n) {
            int[] v = view(n);
            float g = lsqScale ? FakeQuant.lsqGradScale((long) v[0] * v[2], qmax) : 1f;
            FakeQuant.backward(
                    inputs[0].data,
                    0,
                    out.grad,
                    0,
                    v[0],
                    v[1],
                    v[2],
                    inputs[1].data,
                    inputs[2] == null ? null : inputs[2].data,
                    qmin,
                    qmax,
                    g,
                    needs(inputs[0]) ? inputs[0].grad : null,
                    0,
                    needs(inputs[1]) ? inputs[1].grad : null,
                    needs(inputs[2]) ? inputs[2].grad : null);
        }
    }

    /**
     * AdaRound's soft-rounded weight {@code W~(V)} (or hard-rounded, when {@link #hard}). With
     * {@link #regWeight} non-zero, the backward pass also adds {@code regWeight} times the rounding regularizer's
     * gradient (exponent {@link #regBeta}) into V's gradient, sharing one sigmoid per weight with the
     * reconstruction gradient instead of a second pass over V.
     */
    static final class SoftRound extends Node {
        final float qmin;
        final float qmax;
        final int outer;
        final int channels;
        final int inner;
        boolean hard;
        /** A straight-through sign ({@code h = [V >= 0]}, {@code dh/dV = 1}) instead of the rectified sigmoid. */
        boolean straightThrough;

        float regBeta = 2f;
        float regWeight;

        SoftRound(Value w, Value v, Value scale, Value zero, IntegerGrid grid, int axis) {
            super(w, v, scale, zero);
            this.qmin = grid.n();
            this.qmax = grid.p();
            int o = 1;
            for (int i = 0; i < axis; i++) {
                o *= w.shape[i];
            }
            int in = 1;
            for (int i = axis + 1; i < w.rank(); i++) {
                in *= w.shape[i];
            }
            this.outer = o;
            this.channels = w.shape[axis];
            this.inner = in;
        }

        @Override
        void forward(int n) {
            float[] zero = inputs[3] == null ? null : inputs[3].data;
            if (hard || straightThrough) {
                AdaRound.hardRoundReference(
                        inputs[0].data,
                        inputs[1].data,
                        outer,
                        channels,
                        inner,
                        inputs[2].data,
                        zero,
                        qmin,
                        qmax,
                        out.data);
            } else {
                AdaRound.forward(
                        inputs[0].data,
                        inputs[1].data,
                        outer,
                        channels,
                        inner,
                        inputs[2].data,
                        zero,
                        qmin,
                        qmax,
                        out.data);
            }
        }

        @Override
        void backward(int n) {
            if (needs(inputs[1]) && straightThrough) {
                AdaRound.straightThroughBackward(
                        inputs[0].data,
                        inputs[1].data,
                        out.grad,
                        outer,
                        channels,
                        inner,
                        inputs[2].data,
                        inputs[3] == null ? null : inputs[3].data,
                        qmin,
                        qmax,
                        inputs[1].grad);
            } else if (needs(inputs[1])) {
                AdaRound.backward(
                        inputs[0].data,
                        inputs[1].data,
                        out.grad,
                        outer,
                        channels,
                        inner,
                        inputs[2].data,
                        inputs[3] == null ? null : inputs[3].data,
                        qmin,
                        qmax,
                        regBeta,
                        regWeight,
                        inputs[1].grad);
            }
        }
    }

    /** AdaRound's regularizer {@code sum(1 - |2h(V)-1|^beta)} as a scalar. */
    static final class RoundingRegularizer extends Node {
        float beta;

        RoundingRegularizer(Value v, float beta) {
            super(v);
            this.beta = beta;
        }

        @Override
        void forward(int n) {
            out.data[0] = (float) AdaRound.regularizer(inputs[0].data, 0, inputs[0].sampleSize, beta);
        }

        @Override
        void backward(int n) {
            if (needs(inputs[0])) {
                AdaRound.regularizerBackward(
                        inputs[0].data, 0, inputs[0].sampleSize, beta, out.grad[0], inputs[0].grad, 0);
            }
        }
    }
}
