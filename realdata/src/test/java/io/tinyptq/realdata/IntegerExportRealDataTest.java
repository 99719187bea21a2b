package io.tinyptq.realdata;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyptq.api.integer.IntegerModel;
import io.tinyptq.api.integer.TensorQuant;
import io.tinyptq.api.spi.Dataset;
import io.tinyptq.api.spi.ModelFormat;
import io.tinyptq.api.spi.PluginKind;
import io.tinyptq.kernel.data.ModelFiles;
import io.tinyptq.kernel.stats.IntegerStats;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The three MLPerf Tiny int8 reference files imported and written back by tinyptq's full-integer TFLite writer:
 * the written file reads back as the same integer model, and LiteRT runs it on the full test set giving exactly
 * the int8 outputs it gives for the original file (same runtime, same inputs: any difference is the writer's).
 * Inputs are quantized with the file's input quantization, {@code q = clamp(round(x / scale) + zp, -128, 127)},
 * rounding half away from zero.
 */
class IntegerExportRealDataTest {
    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0} on {1}")
    @CsvSource({"pretrainedResnet_quant.tflite, cifar10-test", "kws_ref_model.tflite, kws-test",
        "vww_96_int8.tflite, vww01"})
    void writtenBackFilesReadEqualAndRunBitIdenticallyInLiteRt(String file, String data) throws Exception {
        Path original = Shared.root().resolve("models").resolve(file);
        IntegerModel m = ModelFiles.readInteger(Shared.kernel().registry(), original);
        ModelFormat<?> tflite = Shared.kernel().registry().find(PluginKind.FORMAT, "tflite", ModelFormat.class);
        Path written = dir.resolve(file);
        writeInteger(tflite, m, written);

        IntegerModel back = ModelFiles.readInteger(Shared.kernel().registry(), written);
        assertEquals(m.graph().inputs(), back.graph().inputs(), file + " inputs");
        assertEquals(m.graph().outputs(), back.graph().outputs(), file + " outputs");
        assertEquals(m.graph().ops(), back.graph().ops(), file + " layers");
        assertEquals(m.graph().constants(), back.graph().constants(), file + " dequantized constants");
        assertEquals(m.quant(), back.quant(), file + " quantization of every tensor");
        assertEquals(m.values().keySet(), back.values().keySet(), file + " constants");
        for (String c : m.values().keySet()) {
            assertArrayEquals(m.values(c), back.values(c), file + " stored integers of " + c);
        }
        assertEquals(m.boundary(), back.boundary(), file + " boundary");

        Dataset d = Shared.dataset(data);
        int n = d.size();
        String input = m.graph().inputs().keySet().iterator().next();
        TensorQuant q = m.integerQuant(input);
        LiteRt.SampleWriter int8 = quantizing(d, q);
        long t0 = System.nanoTime();
        byte[] expected = LiteRt.run(original, n, int8);
        byte[] actual = LiteRt.run(written, n, int8);
        double seconds = (System.nanoTime() - t0) / 1e9;
        int classes = d.numClasses();
        assertEquals((long) n * classes, expected.length, file + ": LiteRT's int8 outputs for " + n + " samples");
        int differing = 0;
        for (int i = 0; i < expected.length; i++) {
            differing += expected[i] != actual[i] ? 1 : 0;
        }
        int correct = 0;
        for (int i = 0; i < n; i++) {
            int best = 0;
            for (int k = 1; k < classes; k++) {
                best = expected[i * classes + k] > expected[i * classes + best] ? k : best;
            }
            correct += best == d.label(i) ? 1 : 0;
        }
        long originalSize = Files.size(original);
        long writtenSize = Files.size(written);
        System.out.printf("%s written back by tinyptq: %,d bytes (original %,d, %+.2f %%; weights and biases %,d);"
                + " LiteRT on %,d samples of %s:"
                + " %d of %,d int8 outputs differ, accuracy %.2f %% (%.1f s for both files)%n", file, writtenSize,
                originalSize, 100.0 * (writtenSize - originalSize) / originalSize,
                IntegerStats.of(m).parameterBytes(), n, data, differing,
                expected.length, 100.0 * correct / n, seconds);
        assertArrayEquals(expected, actual, file + ": LiteRT's int8 outputs, written file against the original");
        // The same tensors and buffers; the converter's long fused tensor names make the original larger.
        long stored = IntegerStats.of(m).parameterBytes();
        assertTrue(writtenSize <= originalSize, file + ": " + writtenSize + " bytes written against " + originalSize);
        assertTrue(writtenSize >= stored, file + ": " + writtenSize + " bytes written, but its weights and biases"
                + " alone take " + stored);
    }

    /** Writes sample {@code i} as int8: {@code clamp(round(x / scale) + zp)}, half away from zero. */
    static LiteRt.SampleWriter quantizing(Dataset d, TensorQuant q) {
        int size = d.sampleShape().size();
        float scale = q.scale(0);
        int zp = q.zeroPoint(0);
        float[] x = new float[size];
        byte[] b = new byte[size];
        return (i, out) -> {
            d.read(i, x, 0);
            for (int k = 0; k < size; k++) {
                float v = x[k] / scale;
                long r = (long) Math.signum(v) * (long) Math.floor(Math.abs(v) + 0.5f);
                b[k] = (byte) Math.max(-128, Math.min(127, r + zp));
            }
            out.write(b);
        };
    }

    private static <O extends Record> void writeInteger(ModelFormat<O> format, IntegerModel m, Path file) {
        format.writeInteger(m, file, format.defaultOptions());
    }
}
