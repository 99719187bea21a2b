package io.tinyptq.zoo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyptq.api.TinyPtqException;
import io.tinyptq.api.model.Model;
import io.tinyptq.api.model.Tensor;
import io.tinyptq.api.options.NoOptions;
import io.tinyptq.api.spi.Dataset;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ZooTest {

    static long params(Model m) {
        return m.constants().values().stream().mapToLong(t -> t.data().length).sum();
    }

    @Test
    void harCnnHasTheParameterCountOfTable1() {
        // Table 1: 523,462 parameters, BatchNorm's 4 per channel x 128 channels = 512 of them.
        Model har = Zoo.build("har-cnn", 0);
        assertEquals(523_462, params(har));
        assertEquals("[128,9]", har.shape("window").toString());
        assertEquals("[126,64]", har.shape("h1").toString()); // Table 1's peak activation: 126 x 64 = 8,064
        assertEquals(523_462 - 512, params(Zoo.build("har-cnn-nobn", 0)));
        // Folded for deployment: each conv keeps its weight and one bias per channel; gamma, beta, mean and
        // variance are gone.
        Model folded = io.tinyptq.api.model.BatchNormFolding.fold(har);
        assertEquals(523_462 - 512, params(folded));
        assertEquals(6, folded.ops().size());
    }

    @Test
    void weightsAreSeededAndUnknownNamesListTheZoo() {
        Tensor a = Zoo.build("toy-cnn", 3).constant("conv.w");
        assertEquals(a, Zoo.build("toy-cnn", 3).constant("conv.w"));
        var e = assertThrows(io.tinyptq.api.TinyPtqException.class, () -> Zoo.build("resnet50", 0));
        assertEquals("no architecture 'resnet50' in the zoo; known: [toy-cnn, har-cnn, har-cnn-nobn]", e.getMessage());
    }

    @Test
    void syntheticSamplesAreReproducibleAndBalanced() {
        Dataset d = SyntheticShapes.of("s", 400, 7, 0);
        float[] x = new float[144];
        float[] y = new float[144];
        d.read(17, x, 0);
        SyntheticShapes.of("s", 400, 7, 0).read(17, y, 0);
        assertArrayEquals(x, y);
        int[] counts = new int[4];
        for (int i = 0; i < d.size(); i++) {
            counts[d.label(i)]++;
        }
        for (int c : counts) {
            assertTrue(c > 70 && c < 130, java.util.Arrays.toString(counts));
        }
        // A split starting later in the stream is a different sample.
        SyntheticShapes.of("t", 10, 7, 17).read(0, y, 0);
        assertArrayEquals(x, y);
    }

    @Test
    void descriptorsAreStrict(@TempDir Path dir) throws Exception {
        Path ok = dir.resolve("ok.yaml");
        Files.writeString(ok, "layout: synthetic\ncount: 5\nseed: 1\n");
        assertEquals(5, new SyntheticShapes().open(ok, dir, NoOptions.INSTANCE).size());
        Path bad = dir.resolve("bad.yaml");
        Files.writeString(bad, "layout: synthetic\ncuont: 5\nseed: 1\n");
        var e = assertThrows(TinyPtqException.class, () -> new SyntheticShapes().open(bad, dir, NoOptions.INSTANCE));
        assertEquals(
                bad + ":2: unknown key 'cuont'; known keys of a synthetic descriptor: [layout, count, seed, first]",
                e.getMessage());
    }
}
