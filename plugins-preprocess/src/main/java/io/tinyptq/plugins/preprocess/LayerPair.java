package io.tinyptq.plugins.preprocess;

import io.tinyptq.api.model.Activation;
import io.tinyptq.api.model.Model;
import io.tinyptq.api.model.Op;
import java.util.ArrayList;
import java.util.List;

/**
 * Two layers with weights where every output channel {@code c} of the first reaches the second only as its
 * input channel {@code c}, through ops that act on each channel separately and commute with a positive
 * per-channel scale: {@code f(x/s) = f(x)/s} for {@code s > 0}. Such ops are ReLU and NONE activations (fused or
 * standalone), average and max pooling, mean, zero padding, and a flatten of a channels-last tensor (then input
 * feature {@code k} of the fully connected layer belongs to channel {@code k % C}). ReLU6 is not positively
 * homogeneous ({@code min(x/s, 6) != min(x, 6)/s}), so a pair across ReLU6 is kept only when the caller allows
 * it. The first layer's output must feed nothing else (a residual fork is not a pair) and not be a model output.
 *
 * @param first     producer layer
 * @param second    consumer layer
 * @param channels  channel count {@code C} at the junction
 * @param viaRelu6  whether a ReLU6 lies between them
 * @param flattened whether a flatten lies between them (feature {@code k} is channel {@code k % C})
 */
record LayerPair(Op.Layer first, Op.Layer second, int channels, boolean viaRelu6, boolean flattened, List<Op> between) {

    /** All pairs of the model, in graph order of the first layer. */
    static List<LayerPair> find(Model model) {
        List<LayerPair> pairs = new ArrayList<>();
        for (Op.Layer first : model.layers()) {
            int channels = model.constant(first.weight()).shape().dim(first.weightChannelAxis());
            boolean relu6 = first.activation() == Activation.RELU6;
            boolean flattened = false;
            List<Op> between = new ArrayList<>();
            String tensor = first.output();
            Op.Layer second = null;
            while (true) {
                if (model.outputs().contains(tensor) || model.consumers(tensor).size() != 1) {
                    break;
                }
                Op next = model.consumers(tensor).get(0);
                if (next instanceof Op.Layer l) {
                    second = l;
                    break;
                }
                boolean passes = ChannelGroup.passesChannels(model, next, channels);
                relu6 |= ChannelGroup.viaRelu6(next);
                flattened |= next instanceof Op.Reshape
                        && model.shape(next.inputs().get(0)).rank() > 1;
                if (!passes) {
                    break;
                }
                between.add(next);
                tensor = next.output();
            }
            if (second != null) {
                pairs.add(new LayerPair(first, second, channels, relu6, flattened, List.copyOf(between)));
            }
        }
        return pairs;
    }

    /** Input channel of {@code second} that weight element {@code i} (flat, row-major) multiplies. */
    int secondInputChannel(Model model, int i) {
        return ChannelGroup.inputChannel(model, second, channels, i);
    }

    /** Output channel of {@code first} that weight element {@code i} belongs to. */
    int firstOutputChannel(Model model, int i) {
        return ChannelGroup.outputChannel(model, first, i);
    }
}
