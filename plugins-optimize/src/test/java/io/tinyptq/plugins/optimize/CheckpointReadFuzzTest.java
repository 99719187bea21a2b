package io.tinyptq.plugins.optimize;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.tinyptq.api.model.Unit;
import io.tinyptq.api.model.Units;
import io.tinyptq.api.quant.QuantizedModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Any checkpoint file ends in a restored unit, no checkpoint, or a {@link Checkpoints.Damaged} with a message: never
 * another exception, an OutOfMemoryError or a hang. An input starting with a 0 byte is sealed first: the rest gets
 * the SHA-256 trailer a checkpoint carries, so the fuzzer reaches the entries behind the checksum; any other input
 * is the file as it is. Seeds (a checkpoint of the test MLP's first unit, sealed and raw, and damaged copies) are in
 * {@code src/test/resources/.../CheckpointReadFuzzTestInputs/}. To search for new inputs:
 * {@code JAZZER_FUZZ=1 ./mvnw -q verify -pl plugins-optimize -am -Dtest=CheckpointReadFuzzTest}.
 */
class CheckpointReadFuzzTest {

    @FuzzTest(maxDuration = "10m")
    void anyFileRestoresOrIsCalledDamaged(byte[] bytes) throws Exception {
        Path dir = Files.createTempDirectory("fuzz-ckpt");
        Path file = dir.resolve("unit-000.ckpt");
        try {
            if (bytes.length > 0 && bytes[0] == 0) {
                byte[] content = Arrays.copyOfRange(bytes, 1, bytes.length);
                byte[] sealed = Arrays.copyOf(content, content.length + 32);
                System.arraycopy(Checkpoints.sha256(content, content.length), 0, sealed, content.length, 32);
                Files.write(file, sealed);
            } else {
                Files.write(file, bytes);
            }
            QuantizedModel qm = CheckpointsTest.quantized();
            Unit first = Units.layers(qm.model()).get(0);
            new Checkpoints(dir).restore(0, first, qm);
        } catch (Checkpoints.Damaged expected) {
            if (expected.getMessage() == null || expected.getMessage().isBlank()) {
                throw new AssertionError("an error without a message", expected);
            }
        } finally {
            Files.deleteIfExists(file);
            Files.delete(dir);
        }
    }
}
