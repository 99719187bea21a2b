/**
 * Model-format providers: {@code tflite} imports TensorFlow Lite flatbuffers (float models, with constants
 * stored as float32/float16 or as integers with a scale and zero point) into the tinyptq model IR, fully-integer
 * ones as {@link io.tinyptq.api.integer.IntegerModel}s, and writes
 * float32 TFLite flatbuffers of any IR model.
 */
module io.tinyptq.plugins.formats {
    requires io.tinyptq.api;
    // flatbuffers-java ships without module-info; its automatic module name comes from the jar name.
    requires flatbuffers.java;

    exports io.tinyptq.plugins.formats.tflite;

    provides io.tinyptq.api.spi.ModelFormat with
            io.tinyptq.plugins.formats.tflite.TfliteFormat;
}
