package io.tinyptq.api.spi;

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

    /** Writes a model; formats that only import throw {@link UnsupportedOperationException}. */
    default void write(Model model, Path file, O options) {
        throw new UnsupportedOperationException("model format '" + name() + "' cannot write models");
    }
}
