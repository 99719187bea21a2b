package io.tinyptq.plugins.formats.tflite;

import io.tinyptq.api.integer.IntegerModel;
import io.tinyptq.api.model.BatchNormFolding;
import io.tinyptq.api.model.Model;
import io.tinyptq.api.options.Option;
import io.tinyptq.api.spi.ModelFormat;
import java.nio.file.Path;
import java.util.List;

/**
 * The {@code tflite} model format: imports float TensorFlow Lite flatbuffers (the MLPerf Tiny reference models)
 * into the tinyptq IR, and fully-integer ones (the MLPerf Tiny int8 models) as {@link IntegerModel}s. Supported
 * operators: CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, ADD, AVERAGE_POOL_2D, MAX_POOL_2D, MEAN (spatial), PAD,
 * RESHAPE, SOFTMAX, RELU, RELU6, with fused RELU/RELU6; DEQUANTIZE, QUANTIZE and RESHAPE of constants are folded.
 * See {@link TfliteImporter} for the conventions of the translation. Writes float32 models with every IR op, and
 * fully-integer ones ({@link TfliteWriter}).
 */
public final class TfliteFormat implements ModelFormat<TfliteFormat.Options> {

    /** How imported layers are named. */
    public enum LayerNames {
        /** The Keras layer path found in the output tensor's name, e.g. {@code model/conv2d}. */
        KERAS,
        /** The output tensor's full name as the converter wrote it. */
        TENSOR
    }

    /** @param layerNames how imported layers are named */
    public record Options(
            @Option(
                    description = "layer names: keras (the Keras layer path in the output tensor name, e.g."
                            + " model/conv2d) or tensor (the full TFLite output tensor name)")
            LayerNames layerNames) {}

    @Override
    public String name() {
        return "tflite";
    }

    @Override
    public String description() {
        return "TensorFlow Lite flatbuffers: reads float models (int8/float16 constants are dequantized on load)"
                + " and fully-integer models (int8 activations, int8/int4 weights, int32 biases), writes float32 and"
                + " fully-integer models";
    }

    @Override
    public Class<Options> optionsType() {
        return Options.class;
    }

    @Override
    public Options defaultOptions() {
        return new Options(LayerNames.KERAS);
    }

    @Override
    public List<String> extensions() {
        return List.of("tflite");
    }

    /** Reads a float model; a fully-integer file fails saying so (see {@link #readInteger}). */
    @Override
    public Model read(Path file, Options options) {
        return TfliteImporter.read(file, options.layerNames());
    }

    /**
     * True when the file's activations are integer: a graph input, or the output of an operator reading a computed
     * tensor (a QUANTIZE of the float input included), is INT8, UINT8 or INT16.
     */
    @Override
    public boolean isInteger(Path file, Options options) {
        return TfliteImporter.isInteger(file);
    }

    /**
     * Reads a fully-integer file (INT8 activations, per-tensor or per-channel INT8 or INT4 weights, INT32 biases):
     * the graph as {@link #read} would build it, constants dequantized, plus every tensor's quantization, the stored
     * integers of every weight and bias (INT4 unpacked, low nibble first), and the quantization of a float input
     * or output whose QUANTIZE or DEQUANTIZE is folded away.
     */
    @Override
    public IntegerModel readInteger(Path file, Options options) {
        return TfliteImporter.readInteger(file, options.layerNames());
    }

    /**
     * Writes a float TFLite flatbuffer that {@link #read} turns back into the same layers (see {@link TfliteWriter});
     * the options only concern reading. BatchNorm layers are folded into the layers before them first (TFLite has
     * no BatchNorm operator). An op TFLite cannot express fails naming the layer and its type.
     */
    @Override
    public void write(Model model, Path file, Options options) {
        TfliteWriter.write(BatchNormFolding.fold(model), file);
    }

    /**
     * Writes a fully-integer TFLite flatbuffer that {@link #readInteger} turns back into an equal model: INT8
     * activations with their scales and zero points, per-tensor or per-channel weights, INT32 biases, INT4 weights
     * packed for CONV_2D and FULLY_CONNECTED (INT8 holding the 4-bit values for DEPTHWISE_CONV_2D), QUANTIZE /
     * DEQUANTIZE around float inputs and outputs (see {@link TfliteWriter}).
     */
    @Override
    public void writeInteger(IntegerModel model, Path file, Options options) {
        TfliteWriter.write(model, file);
    }
}
