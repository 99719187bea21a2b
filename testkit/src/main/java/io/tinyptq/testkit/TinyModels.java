package io.tinyptq.testkit;

import io.tinyptq.api.model.Activation;
import io.tinyptq.api.model.Model;
import io.tinyptq.api.model.Op;
import io.tinyptq.api.model.Padding;
import io.tinyptq.api.model.Shape;
import io.tinyptq.api.model.Tensor;
import java.util.SplittableRandom;

/** Small seeded models built in code, covering every op family the real tinyML models use. */
public final class TinyModels {
    private TinyModels() {
    }

    /** A tensor of Gaussian values with standard deviation {@code std}. */
    public static Tensor gaussian(SplittableRandom r, double std, int... dims) {
        Shape s = Shape.of(dims);
        float[] v = new float[s.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (gauss(r) * std);
        }
        return new Tensor(s, v);
    }

    static double gauss(SplittableRandom r) {
        // Box-Muller; SplittableRandom has no nextGaussian with a stable algorithm across releases.
        double u = 1 - r.nextDouble();
        double v = r.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }

    /** Input {@code [in]} -> FC(hidden, relu) -> FC(classes). */
    public static Model mlp(long seed, int in, int hidden, int classes) {
        SplittableRandom r = new SplittableRandom(seed);
        return Model.builder("mlp")
                .input("x", Shape.of(in))
                .constant("fc1.w", gaussian(r, Math.sqrt(2.0 / in), hidden, in))
                .constant("fc1.b", gaussian(r, 0.1, hidden))
                .constant("fc2.w", gaussian(r, Math.sqrt(1.0 / hidden), classes, hidden))
                .constant("fc2.b", gaussian(r, 0.1, classes))
                .op(new Op.FullyConnected("fc1", "x", "fc1.w", "fc1.b", "h", Activation.RELU))
                .op(new Op.FullyConnected("fc2", "h", "fc2.w", "fc2.b", "logits", Activation.NONE))
                .output("logits")
                .build();
    }

    /**
     * A ResNet/DS-CNN-like net on {@code [8,8,3]}: conv 3x3 (relu) -> depthwise 3x3 stride 2 (relu6) ->
     * pointwise 1x1 (relu), a residual add with a 1x1 shortcut (a fork), average pool, mean, reshape, FC, softmax.
     */
    public static Model convNet(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        return Model.builder("convnet")
                .input("image", Shape.of(8, 8, 3))
                .constant("conv.w", gaussian(r, 0.4, 8, 3, 3, 3))
                .constant("conv.b", gaussian(r, 0.1, 8))
                .constant("dw.w", gaussian(r, 0.4, 3, 3, 8))
                .constant("dw.b", gaussian(r, 0.1, 8))
                .constant("pw.w", gaussian(r, 0.4, 16, 1, 1, 8))
                .constant("pw.b", gaussian(r, 0.1, 16))
                .constant("sc.w", gaussian(r, 0.4, 16, 1, 1, 8))
                .constant("fc.w", gaussian(r, 0.3, 5, 16))
                .constant("fc.b", gaussian(r, 0.1, 5))
                .op(new Op.Conv2D("conv", "image", "conv.w", "conv.b", "c1", 1, 1, Padding.SAME, Activation.RELU))
                .op(new Op.DepthwiseConv2D("dw", "c1", "dw.w", "dw.b", "d1", 2, 2, Padding.SAME, 1, Activation.RELU6))
                .op(new Op.Conv2D("pw", "d1", "pw.w", "pw.b", "p1", 1, 1, Padding.VALID, Activation.RELU))
                .op(new Op.Conv2D("shortcut", "d1", "sc.w", null, "s1", 1, 1, Padding.VALID, Activation.NONE))
                .op(new Op.Add("add", "p1", "s1", "a1", Activation.RELU))
                .op(new Op.Pool("pool", "a1", "pool1", Op.PoolKind.AVG, 2, 2, 1, 1, Padding.SAME, Activation.NONE))
                .op(new Op.Mean("gap", "pool1", "g1"))
                .op(new Op.Reshape("flatten", "g1", "f1", Shape.of(16)))
                .op(new Op.FullyConnected("fc", "f1", "fc.w", "fc.b", "logits", Activation.NONE))
                .op(new Op.Softmax("softmax", "logits", "probs"))
                .output("probs")
                .build();
    }

    /**
     * A UCI-HAR-like 1-D net on {@code [16,3]}: pad, conv1d k3 (relu), max pool 2, conv1d k3 stride 2 (relu6),
     * flatten, FC.
     */
    public static Model sequenceNet(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        return Model.builder("sequence")
                .input("signal", Shape.of(16, 3))
                .constant("c1.w", gaussian(r, 0.5, 6, 3, 3))
                .constant("c1.b", gaussian(r, 0.1, 6))
                .constant("c2.w", gaussian(r, 0.4, 4, 3, 6))
                .constant("fc.w", gaussian(r, 0.3, 3, 16))
                .constant("fc.b", gaussian(r, 0.1, 3))
                .op(new Op.Pad("pad", "signal", "padded", new int[] {1, 0}, new int[] {1, 0}))
                .op(new Op.Conv1D("conv1", "padded", "c1.w", "c1.b", "h1", 1, Padding.VALID, Activation.RELU))
                .op(new Op.Pool("pool", "h1", "p1", Op.PoolKind.MAX, 1, 2, 1, 2, Padding.VALID, Activation.NONE))
                .op(new Op.Conv1D("conv2", "p1", "c2.w", null, "h2", 2, Padding.SAME, Activation.RELU6))
                .op(new Op.Reshape("flatten", "h2", "f", Shape.of(16)))
                .op(new Op.FullyConnected("fc", "f", "fc.w", "fc.b", "logits", Activation.NONE))
                .output("logits")
                .build();
    }

    /**
     * A chain with badly balanced channels for preprocessing tests, on {@code [6,6,2]}: conv 3x3 (relu) ->
     * depthwise 3x3 x2 multiplier (relu) -> pointwise (relu) -> max pool -> conv 1x1 (relu6) -> conv 1x1 (relu) ->
     * mean -> FC (relu) -> FC; and a branch-free flatten. Channel {@code c} of every weight is scaled by
     * {@code 4^(c mod 3 - 1)}, so per-channel ranges differ by 16x.
     */
    public static Model unbalancedChain(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        return Model.builder("chain")
                .input("x", Shape.of(6, 6, 2))
                .constant("c1.w", skew(gaussian(r, 0.5, 4, 3, 3, 2), 0)).constant("c1.b", gaussian(r, 0.2, 4))
                .constant("dw.w", skew(gaussian(r, 0.5, 3, 3, 8), 2)).constant("dw.b", gaussian(r, 0.2, 8))
                .constant("pw.w", skew(gaussian(r, 0.5, 6, 1, 1, 8), 0)).constant("pw.b", gaussian(r, 0.2, 6))
                .constant("c6.w", skew(gaussian(r, 0.5, 5, 1, 1, 6), 0)).constant("c6.b", gaussian(r, 0.2, 5))
                .constant("c7.w", skew(gaussian(r, 0.5, 5, 1, 1, 5), 0)).constant("c7.b", gaussian(r, 0.2, 5))
                .constant("fc1.w", skew(gaussian(r, 0.5, 7, 5), 0)).constant("fc1.b", gaussian(r, 0.2, 7))
                .constant("fc2.w", gaussian(r, 0.5, 3, 7)).constant("fc2.b", gaussian(r, 0.2, 3))
                .op(new Op.Conv2D("c1", "x", "c1.w", "c1.b", "a1", 1, 1, Padding.SAME, Activation.RELU))
                .op(new Op.DepthwiseConv2D("dw", "a1", "dw.w", "dw.b", "a2", 1, 1, Padding.SAME, 2, Activation.RELU))
                .op(new Op.Conv2D("pw", "a2", "pw.w", "pw.b", "a3", 1, 1, Padding.VALID, Activation.RELU))
                .op(new Op.Pool("mp", "a3", "a4", Op.PoolKind.MAX, 2, 2, 2, 2, Padding.VALID, Activation.NONE))
                .op(new Op.Conv2D("c6", "a4", "c6.w", "c6.b", "a5", 1, 1, Padding.VALID, Activation.RELU6))
                .op(new Op.Conv2D("c7", "a5", "c7.w", "c7.b", "a6", 1, 1, Padding.VALID, Activation.RELU))
                .op(new Op.Mean("gap", "a6", "a7"))
                .op(new Op.FullyConnected("fc1", "a7", "fc1.w", "fc1.b", "a8", Activation.RELU))
                .op(new Op.FullyConnected("fc2", "a8", "fc2.w", "fc2.b", "out", Activation.NONE))
                .output("out")
                .build();
    }

    /** Conv (relu) -> flatten -> FC: the flatten case of channel-wise preprocessing. */
    public static Model flattenNet(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        return Model.builder("flatten")
                .input("x", Shape.of(3, 3, 2))
                .constant("c.w", skew(gaussian(r, 0.5, 4, 2, 2, 2), 0)).constant("c.b", gaussian(r, 0.2, 4))
                .constant("fc.w", gaussian(r, 0.5, 3, 16)).constant("fc.b", gaussian(r, 0.2, 3))
                .op(new Op.Conv2D("c", "x", "c.w", "c.b", "h", 1, 1, Padding.VALID, Activation.RELU))
                .op(new Op.Reshape("flatten", "h", "f", Shape.of(16)))
                .op(new Op.FullyConnected("fc", "f", "fc.w", "fc.b", "out", Activation.NONE))
                .output("out")
                .build();
    }

    /** Scales channel {@code c} (along {@code axis}) by {@code 4^(c mod 3 - 1)}. */
    static Tensor skew(Tensor t, int axis) {
        int[] d = t.shape().dims();
        int inner = 1;
        for (int k = axis + 1; k < d.length; k++) {
            inner *= d[k];
        }
        float[] v = t.data();
        for (int i = 0; i < v.length; i++) {
            int c = (i / inner) % d[axis];
            v[i] *= (float) Math.pow(4, c % 3 - 1);
        }
        return t;
    }

    /** {@code n} samples of {@code shape} with uniform values in {@code [lo, hi)}, back to back. */
    public static float[] uniform(long seed, int n, Shape shape, float lo, float hi) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[n * shape.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (lo + (hi - lo) * r.nextDouble());
        }
        return v;
    }
}
