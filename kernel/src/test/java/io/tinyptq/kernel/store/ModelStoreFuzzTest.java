package io.tinyptq.kernel.store;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.tinyptq.api.TinyPtqException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Any stored-model folder ends in a model or in a {@link TinyPtqException} with a message: never another exception,
 * an OutOfMemoryError or a hang. An input is {@code model.json}, a NUL byte, then {@code constants.bin} (without the
 * NUL there is no {@code constants.bin}); the seeds, a stored MLP and damaged copies, are in
 * {@code src/test/resources/.../ModelStoreFuzzTestInputs/}. To search for new inputs:
 * {@code JAZZER_FUZZ=1 ./mvnw -q verify -pl kernel -am -Dtest=ModelStoreFuzzTest}.
 */
class ModelStoreFuzzTest {

    /** model.json's field names and values, so that mutations stay JSON that reaches the model's checks. */
    @DictionaryEntries({
        "\"format\"",
        "\"tinyptq-model\"",
        "\"name\"",
        "\"inputs\"",
        "\"outputs\"",
        "\"ops\"",
        "\"op\"",
        "\"constants\"",
        "\"shape\"",
        "\"offset\"",
        "\"quantization\"",
        "\"weights\"",
        "\"activations\"",
        "\"bits\"",
        "\"symmetry\"",
        "\"granularity\"",
        "\"axis\"",
        "\"scale\"",
        "\"zero_point\"",
        "\"per_channel\"",
        "\"per_tensor\"",
        "\"asymmetric\"",
        "\"symmetric\"",
        "\"constants_sha256\"",
        "\"FullyConnected\"",
        "\"Conv2D\"",
        "\"Add\"",
        "\"padding\"",
        "null",
        "-1",
        "2147483647",
        "1e39",
        "0.0"
    })
    @FuzzTest(maxDuration = "10m")
    void anyFolderGivesAModelOrAMessage(byte[] bytes) throws Exception {
        Path dir = Files.createTempDirectory("fuzz-model");
        try {
            int nul = 0;
            while (nul < bytes.length && bytes[nul] != 0) {
                nul++;
            }
            Files.write(dir.resolve(QuantizedModelStore.MODEL_JSON), Arrays.copyOf(bytes, nul));
            if (nul < bytes.length) {
                Files.write(
                        dir.resolve(QuantizedModelStore.CONSTANTS_BIN),
                        Arrays.copyOfRange(bytes, nul + 1, bytes.length));
            }
            QuantizedModelStore.load(dir);
        } catch (TinyPtqException expected) {
            if (expected.getMessage() == null || expected.getMessage().isBlank()) {
                throw new AssertionError("an error without a message", expected);
            }
        } finally {
            try (var files = Files.list(dir)) {
                for (Path f : files.toList()) {
                    Files.delete(f);
                }
            }
            Files.delete(dir);
        }
    }
}
