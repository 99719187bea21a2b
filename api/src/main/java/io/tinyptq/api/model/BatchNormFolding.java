package io.tinyptq.api.model;

import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Folds each {@link Op.BatchNorm} into the layer that produces its input, as converters do for deployment
 * (and as quantization must see the model: the folded weight is what gets quantized).
 *
 * <p>Derivation: with {@code k_c = gamma_c / sqrt(variance_c + epsilon)}, batch normalization of a layer's
 * output channel {@code c} is {@code k_c (W_c · x + b_c - mean_c) + beta_c = (k_c W_c) · x + (k_c (b_c - mean_c)
 * + beta_c)}: the layer with weight row {@code W'_c = k_c W_c} and bias {@code b'_c = k_c (b_c - mean_c) + beta_c}
 * computes the same output. The BatchNorm's activation moves onto the layer.
 *
 * <p>A BatchNorm folds when its input comes from a layer ({@link Op.Layer}) without an activation whose output
 * only the BatchNorm reads and is not a model output. Any other BatchNorm stays in the graph (backends run it as
 * a per-channel affine); {@link #unfoldable} names them.
 */
public final class BatchNormFolding {
    private BatchNormFolding() {}

    /** True when the model has at least one {@link Op.BatchNorm}. */
    public static boolean hasBatchNorm(Model model) {
        return model.ops().stream().anyMatch(op -> op instanceof Op.BatchNorm);
    }

    /** The model with every foldable BatchNorm folded; the same instance when there is none. */
    public static Model fold(Model model) {
        if (!hasBatchNorm(model)) {
            return model;
        }
        Map<String, Op.BatchNorm> foldInto = new LinkedHashMap<>();
        for (Op op : model.ops()) {
            if (op instanceof Op.BatchNorm bn && producerToFold(model, bn) instanceof Op.Layer layer) {
                foldInto.put(layer.name(), bn);
            }
        }
        if (foldInto.isEmpty()) {
            return model;
        }
        Set<String> folded = new HashSet<>();
        foldInto.values().forEach(bn -> folded.add(bn.name()));
        Map<String, Tensor> constants = new LinkedHashMap<>(model.constants());
        Model.Builder b = Model.builder(model.name());
        model.inputs().forEach(b::input);
        java.util.List<Op> ops = new java.util.ArrayList<>();
        for (Op op : model.ops()) {
            if (folded.contains(op.name())) {
                continue;
            }
            Op.BatchNorm bn = foldInto.get(op.name());
            ops.add(bn == null ? op : foldLayer(model, (Op.Layer) op, bn, constants));
        }
        // Constants only the folded BatchNorms read are gone with them.
        Set<String> used = new HashSet<>();
        ops.forEach(op -> used.addAll(op.parameters()));
        constants.keySet().retainAll(used);
        constants.forEach(b::constant);
        ops.forEach(b::op);
        model.outputs().forEach(b::output);
        return b.build();
    }

    /** The BatchNorm layers {@link #fold} leaves in the graph, with the reason for each. */
    public static Map<String, String> unfoldable(Model model) {
        Map<String, String> out = new LinkedHashMap<>();
        for (Op op : model.ops()) {
            if (op instanceof Op.BatchNorm bn && producerToFold(model, bn) == null) {
                out.put(
                        bn.name(),
                        "its input '" + bn.input() + "' is not the only use of a conv/dense layer's"
                                + " output without activation");
            }
        }
        return out;
    }

    private static Op.Layer producerToFold(Model model, Op.BatchNorm bn) {
        Op p = model.producer(bn.input()).orElse(null);
        if (p instanceof Op.Layer layer
                && layer.activation() == Activation.NONE
                && model.consumers(layer.output()).size() == 1
                && !model.outputs().contains(layer.output())) {
            return layer;
        }
        return null;
    }

    private static Op.Layer foldLayer(Model model, Op.Layer layer, Op.BatchNorm bn, Map<String, Tensor> constants) {
        float[] gamma = model.constant(bn.gamma()).data();
        float[] beta = model.constant(bn.beta()).data();
        float[] mean = model.constant(bn.mean()).data();
        float[] var = model.constant(bn.variance()).data();
        int channels = gamma.length;
        double[] k = new double[channels];
        for (int c = 0; c < channels; c++) {
            k[c] = gamma[c] / Math.sqrt((double) var[c] + bn.epsilon());
        }
        Tensor w = model.constant(layer.weight());
        int[] dims = w.shape().dims();
        int axis = layer.weightChannelAxis() < 0 ? dims.length + layer.weightChannelAxis() : layer.weightChannelAxis();
        int inner = 1;
        for (int i = axis + 1; i < dims.length; i++) {
            inner *= dims[i];
        }
        float[] wf = w.data().clone();
        for (int i = 0; i < wf.length; i++) {
            wf[i] = (float) (wf[i] * k[(i / inner) % channels]);
        }
        float[] bias = layer.bias() == null
                ? new float[channels]
                : model.constant(layer.bias()).data();
        float[] bf = new float[channels];
        for (int c = 0; c < channels; c++) {
            bf[c] = (float) (k[c] * ((double) bias[c] - mean[c]) + beta[c]);
        }
        // Fresh names when another layer shares the constant or the layer had no bias.
        String weightName =
                shared(model, layer.weight(), layer) ? unique(constants, layer.weight() + "/folded") : layer.weight();
        String biasName = layer.bias() == null || shared(model, layer.bias(), layer)
                ? unique(constants, layer.name() + "/bias")
                : layer.bias();
        constants.put(weightName, new Tensor(w.shape(), wf));
        constants.put(biasName, new Tensor(Shape.of(channels), bf));
        return rewire(layer, weightName, biasName, bn.output(), bn.activation());
    }

    private static boolean shared(Model model, String constant, Op.Layer layer) {
        return model.ops().stream()
                .anyMatch(op -> op != layer && op.parameters().contains(constant));
    }

    private static String unique(Map<String, Tensor> constants, String base) {
        String name = base;
        for (int i = 2; constants.containsKey(name); i++) {
            name = base + i;
        }
        return name;
    }

    private static Op.Layer rewire(Op.Layer l, String weight, String bias, String output, Activation act) {
        return switch (l) {
            case Op.Conv2D c ->
                new Op.Conv2D(c.name(), c.input(), weight, bias, output, c.strideH(), c.strideW(), c.padding(), act);
            case Op.DepthwiseConv2D d ->
                new Op.DepthwiseConv2D(
                        d.name(),
                        d.input(),
                        weight,
                        bias,
                        output,
                        d.strideH(),
                        d.strideW(),
                        d.padding(),
                        d.multiplier(),
                        act);
            case Op.Conv1D c -> new Op.Conv1D(c.name(), c.input(), weight, bias, output, c.stride(), c.padding(), act);
            case Op.FullyConnected f -> new Op.FullyConnected(f.name(), f.input(), weight, bias, output, act);
        };
    }
}
