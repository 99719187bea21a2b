package io.tinyptq.plugins.formats.tflite;

import java.util.List;
import java.util.Map;

/**
 * Layer names taken from a TFLite file. The converter names an operator's output tensor after every TensorFlow
 * op it fused into it, joined by {@code ;}, e.g.
 * {@code model/activation/Relu;model/batch_normalization/FusedBatchNormV3;...;model/conv2d/BiasAdd;...}.
 * In {@link TfliteFormat.LayerNames#KERAS} mode the layer is the Keras layer path of the first part whose last
 * segment is the TensorFlow op this TFLite operator came from ({@code model/conv2d/BiasAdd} gives
 * {@code model/conv2d}); markers are tried in order, the bias add first because the converter also mentions
 * neighbouring layers' {@code Conv2D} in merged names. When nothing matches, the whole tensor name is used
 * (e.g. {@code Identity} for the final softmax), as it is in {@link TfliteFormat.LayerNames#TENSOR} mode.
 */
final class LayerNames {
    private static final Map<Integer, List<String>> MARKERS = Map.ofEntries(
            Map.entry(BuiltinOperator.CONV_2D, List.of("BiasAdd", "Conv2D")),
            Map.entry(BuiltinOperator.DEPTHWISE_CONV_2D, List.of("BiasAdd", "depthwise")),
            Map.entry(BuiltinOperator.FULLY_CONNECTED, List.of("BiasAdd", "MatMul")),
            Map.entry(BuiltinOperator.ADD, List.of("add", "Add", "AddV2")),
            Map.entry(BuiltinOperator.AVERAGE_POOL_2D, List.of("AvgPool")),
            Map.entry(BuiltinOperator.MAX_POOL_2D, List.of("MaxPool")),
            Map.entry(BuiltinOperator.MEAN, List.of("Mean")),
            Map.entry(BuiltinOperator.PAD, List.of("Pad")),
            Map.entry(BuiltinOperator.RESHAPE, List.of("Reshape")),
            Map.entry(BuiltinOperator.SQUEEZE, List.of("Squeeze")),
            Map.entry(BuiltinOperator.EXPAND_DIMS, List.of("ExpandDims")),
            Map.entry(BuiltinOperator.SOFTMAX, List.of("Softmax")),
            Map.entry(BuiltinOperator.RELU, List.of("Relu")),
            Map.entry(BuiltinOperator.RELU6, List.of("Relu6")));

    private LayerNames() {}

    /** The layer name for an operator with builtin {@code code} whose output tensor is named {@code tensorName}. */
    static String derive(String tensorName, int code, TfliteFormat.LayerNames mode) {
        if (mode == TfliteFormat.LayerNames.TENSOR) {
            return tensorName;
        }
        String[] parts = tensorName.split(";");
        for (String marker : MARKERS.getOrDefault(code, List.of())) {
            for (String part : parts) {
                int slash = part.lastIndexOf('/');
                // The converter appends digits to keep tensor names unique ("model/conv2d/Conv2D1"); markers may end
                // in a digit themselves ("Relu6", "Relu61").
                String op = part.substring(slash + 1);
                if (slash > 0
                        && op.startsWith(marker)
                        && op.substring(marker.length()).matches("\\d*")) {
                    return part.substring(0, slash);
                }
            }
        }
        return tensorName;
    }
}
