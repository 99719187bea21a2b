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
    @CsvSource({
        "pretrainedResnet_quant.tflite, cifar10-test",
        "kws_ref_model.tflite, kws-test",
        "vww_96_int8.tflite, vww01"
    })
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
        LiteRt.SampleWriter int8 = LiteRt.int8Samples(d, q);
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
        System.out.printf(
                "%s written back by tinyptq: %,d bytes (original %,d, %+.2f %%; weights and biases %,d);"
                        + " LiteRT on %,d samples of %s:"
                        + " %d of %,d int8 outputs differ, accuracy %.2f %% (%.1f s for both files)%n",
                file,
                writtenSize,
                originalSize,
                100.0 * (writtenSize - originalSize) / originalSize,
                IntegerStats.of(m).parameterBytes(),
                n,
                data,
                differing,
                expected.length,
                100.0 * correct / n,
                seconds);
        assertArrayEquals(expected, actual, file + ": LiteRT's int8 outputs, written file against the original");
        // The same tensors and buffers; the converter's long fused tensor names make the original larger.
        long stored = IntegerStats.of(m).parameterBytes();
        assertTrue(writtenSize <= originalSize, file + ": " + writtenSize + " bytes written against " + originalSize);
        assertTrue(
                writtenSize >= stored,
                file + ": " + writtenSize + " bytes written, but its weights and biases" + " alone take " + stored);
    }

    /**
     * Packed INT4 weights as LiteRT reads them: ResNet-8's convolution and dense weights cut to 4 bits
     * ({@code clamp(round(q / 16), -8, 7)} at 16 times the scale, biases likewise rescaled), written once as TFLite INT4 tensors (packed two a
     * byte) and once as INT8 tensors holding the same values. A packing error would scramble every weight; LiteRT's
     * INT4 and INT8 convolution kernels round alike up to 1 LSB, so the two files must agree on the predictions.
     */
    @org.junit.jupiter.api.Test
    void int4WeightsRunInLiteRtAsTheSameValuesStoredInInt8() throws Exception {
        Path original = Shared.root().resolve("models").resolve("pretrainedResnet_quant.tflite");
        IntegerModel m = ModelFiles.readInteger(Shared.kernel().registry(), original);
        java.util.Map<String, TensorQuant> q4 = new java.util.LinkedHashMap<>(m.quant());
        java.util.Map<String, TensorQuant> q8 = new java.util.LinkedHashMap<>(m.quant());
        java.util.Map<String, int[]> values = new java.util.LinkedHashMap<>(m.values());
        for (var op : m.graph().ops()) {
            if (op instanceof io.tinyptq.api.model.Op.Layer l) {
                TensorQuant q = m.quant(l.weight());
                float[] scale = q.scale();
                for (int c = 0; c < scale.length; c++) {
                    scale[c] *= 16;
                }
                int[] v = m.values(l.weight()).clone();
                for (int i = 0; i < v.length; i++) {
                    v[i] = (int) Math.max(-8, Math.min(7, Math.round(v[i] / 16.0)));
                }
                values.put(l.weight(), v);
                q4.put(
                        l.weight(),
                        new TensorQuant(io.tinyptq.api.integer.ElementType.INT4, scale, q.zeroPoint(), q.axis()));
                q8.put(
                        l.weight(),
                        new TensorQuant(io.tinyptq.api.integer.ElementType.INT8, scale, q.zeroPoint(), q.axis()));
                // The bias keeps the scale s_input * s_weight[c] TFLite requires: 16 times coarser too.
                TensorQuant qb = m.quant(l.bias());
                float[] biasScale = qb.scale();
                for (int c = 0; c < biasScale.length; c++) {
                    biasScale[c] *= 16;
                }
                int[] vb = m.values(l.bias()).clone();
                for (int i = 0; i < vb.length; i++) {
                    vb[i] = (int) Math.round(vb[i] / 16.0);
                }
                values.put(l.bias(), vb);
                TensorQuant bias = new TensorQuant(qb.type(), biasScale, qb.zeroPoint(), qb.axis());
                q4.put(l.bias(), bias);
                q8.put(l.bias(), bias);
            }
        }
        ModelFormat<?> tflite = Shared.kernel().registry().find(PluginKind.FORMAT, "tflite", ModelFormat.class);
        Path int4 = dir.resolve("resnet-w4.tflite");
        Path int8 = dir.resolve("resnet-w4-in-int8.tflite");
        writeInteger(tflite, new IntegerModel(m.graph(), q4, values, m.boundary()), int4);
        writeInteger(tflite, new IntegerModel(m.graph(), q8, values, m.boundary()), int8);
        IntegerModel back = ModelFiles.readInteger(Shared.kernel().registry(), int4);
        assertEquals(q4, back.quant(), "INT4 quantization read back");
        for (String c : values.keySet()) {
            assertArrayEquals(values.get(c), back.values(c), c);
        }

        Dataset d = Shared.dataset("cifar10-test");
        // LiteRT runs INT4 convolutions without XNNPACK, far slower than INT8: a sample of the test set.
        int n = 500;
        int classes = d.numClasses();
        LiteRt.SampleWriter in = LiteRt.int8Samples(
                d, m.integerQuant(m.graph().inputs().keySet().iterator().next()));
        long t0 = System.nanoTime();
        byte[] a = LiteRt.run(int4, n, in);
        long t1 = System.nanoTime();
        byte[] b = LiteRt.run(int8, n, in);
        long t2 = System.nanoTime();
        assertEquals((long) n * classes, a.length);
        int same = 0;
        int correct4 = 0;
        int correct8 = 0;
        int differing = 0;
        for (int i = 0; i < n; i++) {
            int row = i * classes;
            int p4 = Shared.argmax(classes, k -> a[row + k]);
            int p8 = Shared.argmax(classes, k -> b[row + k]);
            same += p4 == p8 ? 1 : 0;
            correct4 += p4 == d.label(i) ? 1 : 0;
            correct8 += p8 == d.label(i) ? 1 : 0;
            for (int k = 0; k < classes; k++) {
                differing += a[i * classes + k] != b[i * classes + k] ? 1 : 0;
            }
        }
        System.out.printf(
                "ResNet-8 with 4-bit weights (%,d bytes as INT4, %,d as INT8) in LiteRT on %,d samples:"
                        + " accuracy %.2f %% (INT4) and %.2f %% (INT8), %d different predictions, %d of %,d int8 outputs"
                        + " differ (%.1f s INT4, %.1f s INT8)%n",
                Files.size(int4),
                Files.size(int8),
                n,
                100.0 * correct4 / n,
                100.0 * correct8 / n,
                n - same,
                differing,
                a.length,
                (t1 - t0) / 1e9,
                (t2 - t1) / 1e9);
        assertTrue(Files.size(int4) < Files.size(int8), "INT4 weights take half the bytes");
        assertTrue(same >= n * 0.98, (n - same) + " of " + n + " predictions differ between INT4 and INT8 storage");
        // Far above chance: the 4-bit weights were read as written (a scrambled packing gives 10 %).
        assertTrue(correct4 >= n * 0.4, "accuracy with INT4 weights " + 100.0 * correct4 / n + " %");
    }

    private static <O extends Record> void writeInteger(ModelFormat<O> format, IntegerModel m, Path file) {
        format.writeInteger(m, file, format.defaultOptions());
    }
}
