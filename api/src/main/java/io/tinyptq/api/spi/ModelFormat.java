package io.tinyptq.api.spi;

import io.tinyptq.api.integer.IntegerModel;
import io.tinyptq.api.model.Model;
import java.nio.file.Path;
import java.util.List;

/**
 * Reads (and optionally writes) models in a file format. A file that is not in this format, is truncated or
 * uses an unsupported operator fails with {@link io.tinyptq.api.InvalidModelException} naming the file and what
 * was expected.
 */
public interface ModelFormat<O extends Record> extends Plugin<O> {

    /** File extensions this format claims, without the dot ({@code tflite}). */
    List<String> extensions();

    Model read(Path file, O options);

    /**
     * Whether {@code file} holds a fully-integer model (integer activations), read by {@link #readInteger} and run
     * by an {@link IntegerRuntime}, rather than a float one read by {@link #read}.
     */
    default boolean isInteger(Path file, O options) {
        return false;
    }

    default IntegerModel readInteger(Path file, O options) {
        throw new UnsupportedOperationException("model format '" + name() + "' cannot read integer models");
    }

    /** Writes a model; formats that only import throw {@link UnsupportedOperationException}. */
    default void write(Model model, Path file, O options) {
        throw new UnsupportedOperationException("model format '" + name() + "' cannot write models");
    }

    /**
     * Writes a fully-integer model: every tensor at its {@link io.tinyptq.api.integer.TensorQuant}, every constant
     * as its stored integers, and a float model input or output converted at the boundary with the quantization
     * {@link IntegerModel#boundary} gives it. {@link #readInteger} reads the file back as an equal model. Formats
     * that cannot write integer models throw {@link UnsupportedOperationException}.
     */
    default void writeInteger(IntegerModel model, Path file, O options) {
        throw new UnsupportedOperationException("model format '" + name() + "' cannot write integer models");
    }
}
