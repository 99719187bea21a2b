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
    private TinyModels() {}

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
     * BatchNorm after every layer kind, on {@code [6,6,2]}: conv 3x3 without bias -> BN (relu) -> depthwise 3x3
     * -> BN (relu6) -> a residual add with the BN input -> BN after the add (not foldable) -> mean -> FC -> BN;
     * plus a 1-D branch is in {@link #batchNormSequence}. BatchNorm statistics are random and far from the
     * identity (gamma 0.5..1.5, variance 0.3..2), so a wrong fold shows.
     */
    public static Model batchNormNet(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        Model.Builder b = Model.builder("batchnorm-net")
                .input("image", Shape.of(6, 6, 2))
                .constant("conv.w", gaussian(r, 0.4, 4, 3, 3, 2))
                .constant("dw.w", gaussian(r, 0.4, 3, 3, 4))
                .constant("dw.b", gaussian(r, 0.1, 4))
                .constant("fc.w", gaussian(r, 0.4, 3, 4))
                .constant("fc.b", gaussian(r, 0.1, 3));
        batchNorm(b, r, "bn1", 4);
        batchNorm(b, r, "bn2", 4);
        batchNorm(b, r, "bn3", 4);
        batchNorm(b, r, "bn4", 3);
        return b.op(new Op.Conv2D("conv", "image", "conv.w", null, "c", 1, 1, Padding.SAME, Activation.NONE))
                .op(new Op.BatchNorm(
                        "bn1", "c", "bn1.gamma", "bn1.beta", "bn1.mean", "bn1.variance", "h1", 1e-3f, Activation.RELU))
                .op(new Op.DepthwiseConv2D("dw", "h1", "dw.w", "dw.b", "d", 1, 1, Padding.SAME, 1, Activation.NONE))
                .op(new Op.BatchNorm(
                        "bn2", "d", "bn2.gamma", "bn2.beta", "bn2.mean", "bn2.variance", "h2", 1e-3f, Activation.RELU6))
                .op(new Op.Add("add", "h1", "h2", "s", Activation.NONE))
                .op(new Op.BatchNorm(
                        "bn3", "s", "bn3.gamma", "bn3.beta", "bn3.mean", "bn3.variance", "h3", 1e-3f, Activation.RELU))
                .op(new Op.Mean("gap", "h3", "g"))
                .op(new Op.FullyConnected("fc", "g", "fc.w", "fc.b", "f", Activation.NONE))
                .op(new Op.BatchNorm(
                        "bn4",
                        "f",
                        "bn4.gamma",
                        "bn4.beta",
                        "bn4.mean",
                        "bn4.variance",
                        "logits",
                        1e-3f,
                        Activation.NONE))
                .output("logits")
                .build();
    }

    /** Input {@code [16,3]}: conv1d k3 -> BN (relu) -> max pool 2 -> flatten -> FC 3, the HAR CNN in small. */
    public static Model batchNormSequence(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        Model.Builder b = Model.builder("batchnorm-sequence")
                .input("signal", Shape.of(16, 3))
                .constant("c1.w", gaussian(r, 0.5, 6, 3, 3))
                .constant("c1.b", gaussian(r, 0.1, 6))
                .constant("fc.w", gaussian(r, 0.3, 3, 42))
                .constant("fc.b", gaussian(r, 0.1, 3));
        batchNorm(b, r, "bn", 6);
        return b.op(new Op.Conv1D("conv1", "signal", "c1.w", "c1.b", "c", 1, Padding.VALID, Activation.NONE))
                .op(new Op.BatchNorm(
                        "bn", "c", "bn.gamma", "bn.beta", "bn.mean", "bn.variance", "h", 1e-3f, Activation.RELU))
                .op(new Op.Pool("pool", "h", "p", Op.PoolKind.MAX, 1, 2, 1, 2, Padding.VALID, Activation.NONE))
                .op(new Op.Reshape("flatten", "p", "flat", Shape.of(42)))
                .op(new Op.FullyConnected("fc", "flat", "fc.w", "fc.b", "logits", Activation.NONE))
                .output("logits")
                .build();
    }

    private static void batchNorm(Model.Builder b, SplittableRandom r, String name, int c) {
        float[] gamma = new float[c];
        float[] var = new float[c];
        for (int i = 0; i < c; i++) {
            gamma[i] = (float) (0.5 + r.nextDouble());
            var[i] = (float) (0.3 + 1.7 * r.nextDouble());
        }
        b.constant(name + ".gamma", new Tensor(Shape.of(c), gamma))
                .constant(name + ".beta", gaussian(r, 0.3, c))
                .constant(name + ".mean", gaussian(r, 0.3, c))
                .constant(name + ".variance", new Tensor(Shape.of(c), var));
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
                .constant("c1.w", skew(gaussian(r, 0.5, 4, 3, 3, 2), 0))
                .constant("c1.b", gaussian(r, 0.2, 4))
                .constant("dw.w", skew(gaussian(r, 0.5, 3, 3, 8), 2))
                .constant("dw.b", gaussian(r, 0.2, 8))
                .constant("pw.w", skew(gaussian(r, 0.5, 6, 1, 1, 8), 0))
                .constant("pw.b", gaussian(r, 0.2, 6))
                .constant("c6.w", skew(gaussian(r, 0.5, 5, 1, 1, 6), 0))
                .constant("c6.b", gaussian(r, 0.2, 5))
                .constant("c7.w", skew(gaussian(r, 0.5, 5, 1, 1, 5), 0))
                .constant("c7.b", gaussian(r, 0.2, 5))
                .constant("fc1.w", skew(gaussian(r, 0.5, 7, 5), 0))
                .constant("fc1.b", gaussian(r, 0.2, 7))
                .constant("fc2.w", gaussian(r, 0.5, 3, 7))
                .constant("fc2.b", gaussian(r, 0.2, 3))
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
                .constant("c.w", skew(gaussian(r, 0.5, 4, 2, 2, 2), 0))
                .constant("c.b", gaussian(r, 0.2, 4))
                .constant("fc.w", gaussian(r, 0.5, 3, 16))
                .constant("fc.b", gaussian(r, 0.2, 3))
                .op(new Op.Conv2D("c", "x", "c.w", "c.b", "h", 1, 1, Padding.VALID, Activation.RELU))
                .op(new Op.Reshape("flatten", "h", "f", Shape.of(16)))
                .op(new Op.FullyConnected("fc", "f", "fc.w", "fc.b", "out", Activation.NONE))
                .output("out")
                .build();
    }

    /**
     * Conv -> relu -> conv -> relu6 -> flatten -> FC with the activations as ops of their own (as TFLite files hold
     * them when the converter could not fuse them): the standalone activation case of integer execution.
     */
    public static Model standaloneActivations(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        return Model.builder("standalone-act")
                .input("x", Shape.of(4, 4, 2))
                .constant("c1.w", gaussian(r, 0.5, 3, 2, 2, 2))
                .constant("c1.b", gaussian(r, 0.2, 3))
                .constant("c2.w", gaussian(r, 0.5, 4, 2, 2, 3))
                .constant("c2.b", gaussian(r, 0.2, 4))
                .constant("fc.w", gaussian(r, 0.5, 3, 16))
                .constant("fc.b", gaussian(r, 0.2, 3))
                .op(new Op.Conv2D("c1", "x", "c1.w", "c1.b", "h1", 1, 1, Padding.SAME, Activation.NONE))
                .op(new Op.Act("relu", "h1", "a1", Activation.RELU))
                .op(new Op.Conv2D("c2", "a1", "c2.w", "c2.b", "h2", 2, 2, Padding.SAME, Activation.NONE))
                .op(new Op.Act("relu6", "h2", "a2", Activation.RELU6))
                .op(new Op.Reshape("flatten", "a2", "f", Shape.of(16)))
                .op(new Op.FullyConnected("fc", "f", "fc.w", "fc.b", "out", Activation.NONE))
                .output("out")
                .build();
    }

    /**
     * MLPerf Tiny's ResNet-8 (CIFAR-10, {@code [32,32,3]} in, 10 logits out) with He-initialised random weights
     * (zero biases), for timing and shape tests; the real trained network comes from its TFLite file. SAME padding
     * as TFLite; stride-2 convolutions pad TensorFlow's way (the extra row and column at the bottom and right).
     * <pre>
     *   conv 3x3 16 (relu)
     *   block 1: conv 3x3 16 (relu), conv 3x3 16, add identity (relu)
     *   block 2: conv 3x3 32 s2 (relu), conv 3x3 32, add 1x1 conv 32 s2 shortcut (relu)
     *   block 3: conv 3x3 64 s2 (relu), conv 3x3 64, add 1x1 conv 64 s2 shortcut (relu)
     *   average pool 8x8, flatten, FC 10
     * </pre>
     * Layers: {@code conv1}, {@code b1.conv1}, {@code b1.conv2}, {@code b2.conv1}, {@code b2.conv2},
     * {@code b2.shortcut}, {@code b3.conv1}, {@code b3.conv2}, {@code b3.shortcut}, {@code fc}.
     */
    public static Model resnet8(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        Model.Builder b = Model.builder("resnet8").input("image", Shape.of(32, 32, 3));
        String x = heConv(b, r, "conv1", "image", 3, 16, 3, 1, Activation.RELU);
        x = residualBlock(b, r, "b1", x, 16, 16, 1);
        x = residualBlock(b, r, "b2", x, 16, 32, 2);
        x = residualBlock(b, r, "b3", x, 32, 64, 2);
        b.op(new Op.Pool("pool", x, "pooled", Op.PoolKind.AVG, 8, 8, 8, 8, Padding.VALID, Activation.NONE));
        b.op(new Op.Reshape("flatten", "pooled", "features", Shape.of(64)));
        b.constant("fc.w", gaussian(r, Math.sqrt(1.0 / 64), 10, 64))
                .constant("fc.b", new Tensor(Shape.of(10), new float[10]));
        b.op(new Op.FullyConnected("fc", "features", "fc.w", "fc.b", "logits", Activation.NONE));
        return b.output("logits").build();
    }

    /** A ResNet-8 block: two 3x3 convolutions, the identity or a strided 1x1 shortcut, add, relu. */
    private static String residualBlock(
            Model.Builder b, SplittableRandom r, String name, String in, int cin, int cout, int stride) {
        String h = heConv(b, r, name + ".conv1", in, cin, cout, 3, stride, Activation.RELU);
        h = heConv(b, r, name + ".conv2", h, cout, cout, 3, 1, Activation.NONE);
        String shortcut = cin == cout && stride == 1
                ? in
                : heConv(b, r, name + ".shortcut", in, cin, cout, 1, stride, Activation.NONE);
        b.op(new Op.Add(name + ".add", h, shortcut, name + ".out", Activation.RELU));
        return name + ".out";
    }

    /** A SAME-padded conv with He-normal weights {@code [cout,k,k,cin]} and a zero bias; returns its output. */
    private static String heConv(
            Model.Builder b,
            SplittableRandom r,
            String name,
            String in,
            int cin,
            int cout,
            int k,
            int stride,
            Activation act) {
        b.constant(name + ".w", gaussian(r, Math.sqrt(2.0 / (k * k * cin)), cout, k, k, cin))
                .constant(name + ".b", new Tensor(Shape.of(cout), new float[cout]));
        b.op(new Op.Conv2D(name, in, name + ".w", name + ".b", name + ".y", stride, stride, Padding.SAME, act));
        return name + ".y";
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
