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
