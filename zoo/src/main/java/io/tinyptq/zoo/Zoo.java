package io.tinyptq.zoo;

import io.tinyptq.api.TinyPtqException;
import io.tinyptq.api.model.Activation;
import io.tinyptq.api.model.Model;
import io.tinyptq.api.model.Op;
import io.tinyptq.api.model.Padding;
import io.tinyptq.api.model.Shape;
import io.tinyptq.api.model.Tensor;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Architectures defined in code, with He-initialized weights drawn from a seed, ready to train.
 * <ul>
 *   <li>{@code toy-cnn}: a depthwise-separable CNN for the {@code synthetic} shapes dataset ({@code [12,12,1]},
 *       4 classes): conv 3x3 8 (ReLU) -> depthwise 3x3 stride 2 (ReLU) -> pointwise 16 (ReLU) -> mean -> FC 4.</li>
 *   <li>{@code har-cnn}: the paper's UCI-HAR CNN (Table 6) as Table 1's parameter count (523,462) pins it down:
 *       conv1d 9->64 k3 -> BatchNorm (ReLU) -> conv1d 64->64 k3 -> BatchNorm (ReLU) -> max pool 2 -> flatten
 *       (62 x 64) -> FC 128 (ReLU) -> FC 6, on {@code [128,9]} windows. BatchNorm as Keras initializes it
 *       (gamma 1, beta 0, running mean 0, variance 1, epsilon 1e-3).</li>
 *   <li>{@code har-cnn-nobn}: the same without BatchNorm (522,950 parameters).</li>
 * </ul>
 */
public final class Zoo {
    private Zoo() {}

    public static List<String> names() {
        return List.of("toy-cnn", "har-cnn", "har-cnn-nobn");
    }

    /** The architecture {@code name} with weights drawn from {@code seed}; fails listing the known names. */
    public static Model build(String name, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        return switch (name) {
            case "toy-cnn" ->
                Model.builder("toy-cnn")
                        .input("image", Shape.of(12, 12, 1))
                        .constant("conv.w", he(r, 9, 8, 3, 3, 1))
                        .constant("conv.b", Tensor.zeros(Shape.of(8)))
                        .constant("dw.w", he(r, 9, 3, 3, 8))
                        .constant("dw.b", Tensor.zeros(Shape.of(8)))
                        .constant("pw.w", he(r, 8, 16, 1, 1, 8))
                        .constant("pw.b", Tensor.zeros(Shape.of(16)))
                        .constant("fc.w", he(r, 16, 4, 16))
                        .constant("fc.b", Tensor.zeros(Shape.of(4)))
                        .op(new Op.Conv2D(
                                "conv", "image", "conv.w", "conv.b", "c", 1, 1, Padding.SAME, Activation.RELU))
                        .op(new Op.DepthwiseConv2D(
                                "dw", "c", "dw.w", "dw.b", "d", 2, 2, Padding.SAME, 1, Activation.RELU))
                        .op(new Op.Conv2D("pw", "d", "pw.w", "pw.b", "p", 1, 1, Padding.VALID, Activation.RELU))
                        .op(new Op.Mean("gap", "p", "g"))
                        .op(new Op.FullyConnected("fc", "g", "fc.w", "fc.b", "logits", Activation.NONE))
                        .output("logits")
                        .build();
            case "har-cnn" ->
                Model.builder("har-cnn")
                        .input("window", Shape.of(128, 9))
                        .constant("conv1.w", he(r, 27, 64, 3, 9))
                        .constant("conv1.b", Tensor.zeros(Shape.of(64)))
                        .constant("conv2.w", he(r, 192, 64, 3, 64))
                        .constant("conv2.b", Tensor.zeros(Shape.of(64)))
                        .constant("fc1.w", he(r, 62 * 64, 128, 62 * 64))
                        .constant("fc1.b", Tensor.zeros(Shape.of(128)))
                        .constant("fc2.w", he(r, 128, 6, 128))
                        .constant("fc2.b", Tensor.zeros(Shape.of(6)))
                        .constants(batchNorm("bn1", 64))
                        .constants(batchNorm("bn2", 64))
                        .op(new Op.Conv1D(
                                "conv1", "window", "conv1.w", "conv1.b", "c1", 1, Padding.VALID, Activation.NONE))
                        .op(batchNormOp("bn1", "c1", "h1"))
                        .op(new Op.Conv1D("conv2", "h1", "conv2.w", "conv2.b", "c2", 1, Padding.VALID, Activation.NONE))
                        .op(batchNormOp("bn2", "c2", "h2"))
                        .op(new Op.Pool(
                                "pool", "h2", "h3", Op.PoolKind.MAX, 1, 2, 1, 2, Padding.VALID, Activation.NONE))
                        .op(new Op.Reshape("flatten", "h3", "f", Shape.of(62 * 64)))
                        .op(new Op.FullyConnected("fc1", "f", "fc1.w", "fc1.b", "h4", Activation.RELU))
                        .op(new Op.FullyConnected("fc2", "h4", "fc2.w", "fc2.b", "logits", Activation.NONE))
                        .output("logits")
                        .build();
            case "har-cnn-nobn" ->
                Model.builder("har-cnn-nobn")
                        .input("window", Shape.of(128, 9))
                        .constant("conv1.w", he(r, 27, 64, 3, 9))
                        .constant("conv1.b", Tensor.zeros(Shape.of(64)))
                        .constant("conv2.w", he(r, 192, 64, 3, 64))
                        .constant("conv2.b", Tensor.zeros(Shape.of(64)))
                        .constant("fc1.w", he(r, 62 * 64, 128, 62 * 64))
                        .constant("fc1.b", Tensor.zeros(Shape.of(128)))
                        .constant("fc2.w", he(r, 128, 6, 128))
                        .constant("fc2.b", Tensor.zeros(Shape.of(6)))
                        .op(new Op.Conv1D(
                                "conv1", "window", "conv1.w", "conv1.b", "h1", 1, Padding.VALID, Activation.RELU))
                        .op(new Op.Conv1D("conv2", "h1", "conv2.w", "conv2.b", "h2", 1, Padding.VALID, Activation.RELU))
                        .op(new Op.Pool(
                                "pool", "h2", "h3", Op.PoolKind.MAX, 1, 2, 1, 2, Padding.VALID, Activation.NONE))
                        .op(new Op.Reshape("flatten", "h3", "f", Shape.of(62 * 64)))
                        .op(new Op.FullyConnected("fc1", "f", "fc1.w", "fc1.b", "h4", Activation.RELU))
                        .op(new Op.FullyConnected("fc2", "h4", "fc2.w", "fc2.b", "logits", Activation.NONE))
                        .output("logits")
                        .build();
            default -> throw new TinyPtqException("no architecture '" + name + "' in the zoo; known: " + names());
        };
    }

    /** Keras' initial BatchNorm constants: gamma 1, beta 0, running mean 0, running variance 1. */
    static Map<String, Tensor> batchNorm(String name, int channels) {
        float[] ones = new float[channels];
        Arrays.fill(ones, 1f);
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put(name + ".gamma", new Tensor(Shape.of(channels), ones.clone()));
        m.put(name + ".beta", Tensor.zeros(Shape.of(channels)));
        m.put(name + ".mean", Tensor.zeros(Shape.of(channels)));
        m.put(name + ".variance", new Tensor(Shape.of(channels), ones));
        return m;
    }

    static Op.BatchNorm batchNormOp(String name, String input, String output) {
        return new Op.BatchNorm(
                name,
                input,
                name + ".gamma",
                name + ".beta",
                name + ".mean",
                name + ".variance",
                output,
                1e-3f,
                Activation.RELU);
    }

    /** He initialization (He et al. 2015): Gaussian with variance {@code 2 / fanIn}. */
    static Tensor he(SplittableRandom r, int fanIn, int... dims) {
        Shape s = Shape.of(dims);
        double std = Math.sqrt(2.0 / fanIn);
        float[] v = new float[s.size()];
        for (int i = 0; i < v.length; i++) {
            double u = 1 - r.nextDouble();
            v[i] = (float) (std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r.nextDouble()));
        }
        return new Tensor(s, v);
    }
}
