package io.tinyptq.plugins.preprocess;

import io.tinyptq.api.model.Activation;
import io.tinyptq.api.model.Model;
import io.tinyptq.api.model.Op;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The largest set of tensors that must share one per-channel scale: a {@link LayerPair} generalized to forks and
 * residual adds. Starting from a layer's output, the group grows through ops that act on each channel separately
 * and commute with a positive per-channel scale (ReLU and NONE activations, pooling, mean, zero padding, a flatten
 * of a channels-last tensor) and through adds, whose inputs and output must all carry the same scale (a residual
 * stream); it ends at layers. Layers that write into the group are its producers, layers that read from it its
 * consumers. Multiplying output channel {@code c} of every producer (weights and bias) by {@code t_c > 0} and
 * dividing input channel {@code c} of every consumer by {@code t_c} leaves the model's function unchanged, since
 * every op in between satisfies {@code f(t x) = t f(x)} channel by channel and {@code t a + t b = t (a + b)}.
 *
 * <p>A group that reaches a model input or output, or an op of another kind, cannot be rescaled and is not
 * returned. In a plain chain the group is exactly a pair; in ResNet-8 the stem's output, the adds after it and the
 * branch outputs that feed them form one group per residual stream.
 *
 * @param producers layers whose output channels carry the scale
 * @param consumers layers whose input channels undo it
 * @param tensors   every tensor of the group, in discovery order
 * @param channels  channel count {@code C}; element {@code k} of any tensor of the group (channels last, or
 *                  flattened from channels last) belongs to channel {@code k % C}
 * @param viaRelu6  whether a ReLU6 (not positively homogeneous) lies inside the group
 */
record ChannelGroup(
        List<Op.Layer> producers, List<Op.Layer> consumers, List<String> tensors, int channels, boolean viaRelu6) {

    /** Every rescalable group of the model, ordered by its first producer in graph order. */
    static List<ChannelGroup> find(Model model) {
        List<ChannelGroup> groups = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (Op.Layer layer : model.layers()) {
            if (!seen.contains(layer.output())) {
                grow(model, layer, seen).ifPresent(groups::add);
            }
        }
        return groups;
    }

    /** The tensors that the consumers read: those carry the activation quantizers, one per tensor. */
    List<String> quantizedTensors() {
        return consumers.stream().map(Op.Layer::input).distinct().toList();
    }

    private static Optional<ChannelGroup> grow(Model model, Op.Layer start, Set<String> seen) {
        int channels = model.shape(start.output()).dim(-1);
        Set<String> tensors = new LinkedHashSet<>();
        Set<Op.Layer> producers = new LinkedHashSet<>();
        Set<Op.Layer> consumers = new LinkedHashSet<>();
        Deque<String> todo = new ArrayDeque<>();
        tensors.add(start.output());
        todo.add(start.output());
        boolean valid = true;
        boolean relu6 = false;
        while (!todo.isEmpty()) {
            String t = todo.poll();
            seen.add(t);
            var shape = model.shape(t);
            if (model.inputs().containsKey(t)
                    || model.outputs().contains(t)
                    || shape.dim(-1) % channels != 0
                    || (shape.dim(-1) != channels && shape.rank() != 1)) {
                valid = false;
                continue;
            }
            // The producer and every consumer of t either bound the group (layers) or carry it on: an add joins all
            // of its operands and its output, a channel-wise op its input and output.
            List<Op> touching = new ArrayList<>(model.consumers(t));
            touching.add(model.producer(t).orElseThrow());
            List<String> next = new ArrayList<>();
            for (Op op : touching) {
                if (op instanceof Op.Layer l) {
                    if (l.output().equals(t)) {
                        producers.add(l);
                        relu6 |= l.activation() == Activation.RELU6;
                    } else {
                        consumers.add(l);
                    }
                } else if (op instanceof Op.Add || passesChannels(model, op, channels)) {
                    relu6 |= viaRelu6(op);
                    next.addAll(op.inputs());
                    next.add(op.output());
                } else {
                    valid = false;
                }
            }
            for (String n : next) {
                if (tensors.add(n)) {
                    todo.add(n);
                }
            }
        }
        if (!valid || consumers.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new ChannelGroup(
                List.copyOf(producers), List.copyOf(consumers), List.copyOf(tensors), channels, relu6));
    }

    /** Whether {@code op} maps channel {@code c} of its input to channel {@code c} of its output, one by one. */
    static boolean passesChannels(Model model, Op op, int channels) {
        return switch (op) {
            case Op.Act a -> true;
            case Op.Pool p -> true;
            case Op.Mean m -> true;
            case Op.Pad p -> p.before()[p.before().length - 1] == 0 && p.after()[p.after().length - 1] == 0;
            // Only a flatten of a channels-last tensor keeps channel c at features k % C.
            case Op.Reshape r -> r.shape().rank() == 1 && model.shape(r.input()).dim(-1) == channels;
            default -> false;
        };
    }

    /** Whether {@code op} applies a ReLU6, which is not positively homogeneous. */
    static boolean viaRelu6(Op op) {
        return switch (op) {
            case Op.Act a -> a.activation() == Activation.RELU6;
            case Op.Pool p -> p.activation() == Activation.RELU6;
            case Op.Add a -> a.activation() == Activation.RELU6;
            default -> false;
        };
    }

    /** Output channel of {@code layer} that weight element {@code i} (flat, row-major) belongs to. */
    static int outputChannel(Model model, Op.Layer layer, int i) {
        int[] d = model.constant(layer.weight()).shape().dims();
        int axis = layer.weightChannelAxis();
        int inner = 1;
        for (int k = axis + 1; k < d.length; k++) {
            inner *= d[k];
        }
        return (i / inner) % d[axis];
    }

    /** Input channel (of {@code channels}) of {@code layer} that weight element {@code i} multiplies. */
    static int inputChannel(Model model, Op.Layer layer, int channels, int i) {
        int[] d = model.constant(layer.weight()).shape().dims();
        return switch (layer) {
            case Op.Conv2D c -> i % d[3];
            case Op.Conv1D c -> i % d[2];
            case Op.FullyConnected f -> (i % d[1]) % channels;
            case Op.DepthwiseConv2D dw -> (i % d[2]) / dw.multiplier();
        };
    }
}
