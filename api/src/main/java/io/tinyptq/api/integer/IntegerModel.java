package io.tinyptq.api.integer;

import io.tinyptq.api.InvalidModelException;
import io.tinyptq.api.model.Model;
import io.tinyptq.api.model.Op;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A fully-integer model as TFLite's integer kernels run it (int8 activations, per-channel int8 or int4 weights,
 * int32 biases, fixed-point requantization between them).
 *
 * <p>The graph is an ordinary {@link Model}: the same ops and shapes, its constants holding the dequantized values
 * {@code scale * (q - zeroPoint)} so that statistics, reports and float engines can read it. What makes it integer
 * is {@link #quant}: the {@link TensorQuant} of every tensor (model inputs, each op's output, each constant), and
 * {@link #values}: the stored integers of every constant, exactly as the file holds them.
 *
 * <p>A model input or output may be {@link ElementType#FLOAT32} where the file quantizes or dequantizes at its
 * boundary; {@link #boundary} then gives the integer quantization it is converted to or from.
 */
public record IntegerModel(
        Model graph, Map<String, TensorQuant> quant, Map<String, int[]> values, Map<String, TensorQuant> boundary) {
    public IntegerModel {
        Objects.requireNonNull(graph, "graph");
        quant = Collections.unmodifiableMap(new LinkedHashMap<>(quant));
        values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
        boundary = Collections.unmodifiableMap(new LinkedHashMap<>(boundary));
        for (String t : graph.activationShapes().keySet()) {
            if (!quant.containsKey(t)) {
                throw new InvalidModelException(
                        "integer model '" + graph.name() + "': tensor '" + t + "' has no quantization");
            }
        }
        for (Op op : graph.ops()) {
            for (String p : op.parameters()) {
                if (!quant.containsKey(p) || !values.containsKey(p)) {
                    throw new InvalidModelException("integer model '" + graph.name() + "': constant '" + p
                            + "' of layer '" + op.name() + "' has no integer values or quantization");
                }
                if (values.get(p).length != graph.constant(p).shape().size()) {
                    throw new InvalidModelException(
                            "integer model '" + graph.name() + "': constant '" + p + "' holds " + values.get(p).length
                                    + " integers for shape " + graph.constant(p).shape());
                }
            }
        }
    }

    public TensorQuant quant(String tensor) {
        TensorQuant q = quant.get(tensor);
        if (q == null) {
            throw new IllegalArgumentException("integer model '" + graph.name() + "' has no tensor '" + tensor + "'");
        }
        return q;
    }

    /** The integer quantization a model input or output is converted to or from: its own, or its boundary's. */
    public TensorQuant integerQuant(String tensor) {
        TensorQuant q = quant(tensor);
        return q.type().isInteger() ? q : boundary.get(tensor);
    }

    /** The stored integers of a constant (weights, biases), in the layout of {@code graph().constant(name)}. */
    public int[] values(String constant) {
        int[] v = values.get(constant);
        if (v == null) {
            throw new IllegalArgumentException(
                    "integer model '" + graph.name() + "' has no constant '" + constant + "'");
        }
        return v;
    }
}
