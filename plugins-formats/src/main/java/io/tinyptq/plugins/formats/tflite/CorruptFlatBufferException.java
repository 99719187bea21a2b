package io.tinyptq.plugins.formats.tflite;

/**
 * A flatbuffer offset or length points outside the file. Internal to the importer, which reports it as an
 * {@link io.tinyptq.api.InvalidModelException} naming the file.
 */
final class CorruptFlatBufferException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    CorruptFlatBufferException(String message) {
        super(message);
    }
}
