package io.tinyptq.api.model;

import java.util.List;

/**
 * A piece of a model that reconstruction optimizes as a whole (Zhuo et al. 2022, Figure 3; BRECQ's blocks):
 * one layer, a depthwise-separable pair, or a residual block from its fork to its join. A unit reads one
 * tensor and writes one tensor.
 *
 * @param name   the unit's name (the layer's, or "first..last" of a block)
 * @param kind   {@code layer}, {@code separable} or {@code residual}
 * @param input  the tensor the unit reads
 * @param output the tensor the unit writes
 * @param ops    the unit's operations in graph order
 */
public record Unit(String name, String kind, String input, String output, List<Op> ops) {
    public Unit {
        ops = List.copyOf(ops);
    }

    /** The unit's layers with weights. */
    public List<Op.Layer> layers() {
        return ops.stream()
                .filter(Op.Layer.class::isInstance)
                .map(Op.Layer.class::cast)
                .toList();
    }
}
