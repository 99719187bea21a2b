package io.tinyptq.kernel.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyptq.api.TinyPtqException;
import io.tinyptq.api.model.Shape;
import io.tinyptq.api.options.NoOptions;
import io.tinyptq.api.spi.Dataset;
import io.tinyptq.api.spi.DatasetProvider;
import io.tinyptq.kernel.registry.PluginRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetDescriptorsTest {
    @TempDir
    Path dir;

    /** A provider that records what it was asked to open. */
    static final class Recording implements DatasetProvider<NoOptions> {
        Path descriptor;
        Path root;

        public String name() {
            return "fake-layout";
        }

        public Class<NoOptions> optionsType() {
            return NoOptions.class;
        }

        public NoOptions defaultOptions() {
            return NoOptions.INSTANCE;
        }

        public Dataset open(Path descriptor, Path dataRoot, NoOptions options) {
            this.descriptor = descriptor;
            this.root = dataRoot;
            return new Dataset() {
                public String name() {
                    return "fake";
                }

                public int size() {
                    return 0;
                }

                public Shape sampleShape() {
                    return Shape.of(1);
                }

                public int numClasses() {
                    return 2;
                }

                public void read(int index, float[] dst, int offset) {}

                public int label(int index) {
                    return 0;
                }
            };
        }
    }

    @Test
    void namesResolveInTheDescriptorFolderAndTheLayoutPicksThePlugin() throws Exception {
        Path d = Files.writeString(dir.resolve("tiny.yaml"), "# a comment\nlayout: fake-layout  # the plugin\n");
        Files.writeString(dir.resolve("other.yaml"), "layout: x\n");
        assertEquals(d, DatasetDescriptors.resolve("tiny", dir));
        assertEquals(d, DatasetDescriptors.resolve(d.toString(), null));
        assertEquals(List.of("other", "tiny"), DatasetDescriptors.names(dir));
        Recording p = new Recording();
        Dataset ds = DatasetDescriptors.open(PluginRegistry.of(List.of(p)), d, Path.of("/data"));
        assertEquals("fake", ds.name());
        assertSame(d, p.descriptor);
        assertEquals(Path.of("/data"), p.root);
    }

    @Test
    void unknownNamesAndLayoutsListWhatExists() throws Exception {
        Files.writeString(dir.resolve("tiny.yaml"), "layout: nowhere\n");
        var e = assertThrows(TinyPtqException.class, () -> DatasetDescriptors.resolve("tinny", dir));
        assertEquals(
                "no dataset descriptor 'tinny': not a file, and not a descriptor name in " + dir + " (known: tiny)",
                e.getMessage());
        e = assertThrows(
                TinyPtqException.class,
                () -> DatasetDescriptors.open(
                        PluginRegistry.of(List.of(new Recording())), dir.resolve("tiny.yaml"), dir));
        assertTrue(
                e.getMessage()
                        .startsWith("dataset descriptor " + dir.resolve("tiny.yaml") + ": unknown dataset plugin"
                                + " 'nowhere'; known dataset plugins: [fake-layout]"),
                e.getMessage());
        Path none = Files.writeString(dir.resolve("none.yaml"), "file: x.bin\n");
        e = assertThrows(TinyPtqException.class, () -> DatasetDescriptors.layout(none));
        assertEquals("dataset descriptor " + none + " has no 'layout' key naming its dataset plugin", e.getMessage());
    }
}
