package io.tinyptq.plugins.datasets;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.tinyptq.api.TinyPtqException;
import io.tinyptq.api.options.NoOptions;
import io.tinyptq.api.spi.Dataset;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Any descriptor text ends in an open dataset whose every sample and label reads, or in a {@link TinyPtqException}
 * with a message: never another exception, an OutOfMemoryError or a hang. The descriptor is opened under a data root
 * holding small files of each layout (records, features with labels and groups, an index list, a UCI-HAR split);
 * the seeds in {@code src/test/resources/.../DescriptorFuzzTestInputs/} name them. To search for new inputs:
 * {@code JAZZER_FUZZ=1 ./mvnw -q verify -pl plugins-datasets -am -Dtest=DescriptorFuzzTest}.
 */
class DescriptorFuzzTest {
    private static final Path ROOT = dataRoot();
    private static final List<LayoutProvider> PROVIDERS =
            List.of(new RecordsProvider(), new FeaturesProvider(), new UciHarProvider());

    @FuzzTest(maxDuration = "10m")
    void anyDescriptorOpensOrGivesAMessage(byte[] bytes) throws Exception {
        Path descriptor = Files.write(ROOT.resolve("datasets").resolve("fuzz.yaml"), bytes);
        for (LayoutProvider provider : PROVIDERS) {
            try {
                Dataset ds = provider.open(descriptor, ROOT, NoOptions.INSTANCE);
                float[] x = new float[ds.sampleShape().size()];
                for (int i = 0; i < ds.size(); i++) {
                    ds.read(i, x, 0);
                    ds.label(i);
                    if (ds.hasGroups()) {
                        ds.group(i);
                    }
                }
            } catch (TinyPtqException expected) {
                if (expected.getMessage() == null || expected.getMessage().isBlank()) {
                    throw new AssertionError("an error without a message", expected);
                }
            }
        }
    }

    /**
     * images.bin: 5 records [label u8][2x2x3 u8]; x.bin: 3 samples of 2x2x1 f32 with labels y.bin and groups g.bin;
     * pick.csv: an index list; har/test: a UCI-HAR split of 2 windows of 4 time steps.
     */
    private static Path dataRoot() {
        try {
            Path root = Files.createTempDirectory("fuzz-data");
            Files.createDirectories(root.resolve("datasets"));
            byte[] records = new byte[5 * 13];
            for (int r = 0; r < 5; r++) {
                records[r * 13] = (byte) (r % 3);
                for (int i = 0; i < 12; i++) {
                    records[r * 13 + 1 + i] = (byte) (10 * r + i);
                }
            }
            Files.write(root.resolve("images.bin"), records);
            ByteBuffer f = ByteBuffer.allocate(3 * 4 * 4).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < 12; i++) {
                f.putFloat(i * 0.5f - 1f);
            }
            Files.write(root.resolve("x.bin"), f.array());
            Files.write(root.resolve("y.bin"), new byte[] {2, 0, 1});
            Files.write(root.resolve("g.bin"), new byte[] {7, 7, 9});
            Files.writeString(root.resolve("pick.csv"), "index,name,label\n4,e,1\n1,b,1\n");
            Path har =
                    Files.createDirectories(root.resolve("har").resolve("test").resolve("Inertial Signals"));
            for (String signal : UciHarProvider.SIGNALS) {
                Files.writeString(har.resolve(signal + "_test.txt"), " 1.0e-1 2 3 4\n -1 -2 -3 -4.5\n");
            }
            Files.writeString(har.getParent().resolve("y_test.txt"), "1\n6\n");
            root.toFile().deleteOnExit();
            return root;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
