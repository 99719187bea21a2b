package io.tinyptq.plugins.formats.tflite;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.tinyptq.api.TinyPtqException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Any bytes given to the TFLite reader end in a model or in a {@link TinyPtqException} with a message: never another
 * exception, an OutOfMemoryError or a hang. In the build this runs over the seed corpus in
 * {@code src/test/resources/.../TfliteImportFuzzTestInputs/} (regression mode); to search for new inputs:
 * {@code JAZZER_FUZZ=1 ./mvnw -q verify -pl plugins-formats -am -Dtest=TfliteImportFuzzTest -Djazzer.max_duration=10m}.
 */
class TfliteImportFuzzTest {
    private static final TfliteFormat FORMAT = new TfliteFormat();

    @FuzzTest(maxDuration = "10m")
    void anyBytesGiveAModelOrAMessage(byte[] bytes) throws Exception {
        Path file = Files.createTempFile("fuzz", ".tflite");
        try {
            Files.write(file, bytes);
            read(file);
        } finally {
            Files.delete(file);
        }
    }

    private static void read(Path file) {
        try {
            if (FORMAT.isInteger(file, FORMAT.defaultOptions())) {
                FORMAT.readInteger(file, FORMAT.defaultOptions());
            } else {
                FORMAT.read(file, FORMAT.defaultOptions());
            }
        } catch (TinyPtqException expected) {
            if (expected.getMessage() == null || expected.getMessage().isBlank()) {
                throw new AssertionError("an error without a message", expected);
            }
        }
    }
}
