package io.tinyptq.kernel.stats;

import io.tinyptq.api.model.Shape;
import java.util.List;

/**
 * The cost of one op of a model, per sample.
 *
 * @param name       the layer name
 * @param type       the op type as reports print it ({@code conv2d}, {@code avg_pool}, ...)
 * @param inputs     shapes of the activation tensors it reads
 * @param output     shape of the tensor it writes
 * @param macs       multiply-accumulates (convolution, depthwise and fully-connected layers; 0 otherwise)
 * @param params     weight and bias values it holds
 * @param activation elements of its output tensor
 * @param table1     what Zhuo et al.'s Table 1 counts on top of {@code macs} for this op (see {@link ModelStats})
 */
public record LayerStats(
        String name,
        String type,
        List<Shape> inputs,
        Shape output,
        long macs,
        long params,
        long activation,
        long table1) {
    public LayerStats {
        inputs = List.copyOf(inputs);
    }
}
