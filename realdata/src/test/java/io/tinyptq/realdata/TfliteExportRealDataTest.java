package io.tinyptq.realdata;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyptq.api.model.Model;
import io.tinyptq.api.model.Op;
import io.tinyptq.api.spi.Dataset;
import io.tinyptq.api.spi.ModelFormat;
import io.tinyptq.api.spi.PluginKind;
import io.tinyptq.kernel.data.ModelFiles;
import io.tinyptq.kernel.pipeline.BoundBackends;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Export to TFLite and import again on the three MLPerf Tiny float models: the same layers with bit-identical
 * constants, and the same logits on real test samples. The DS-CNN file stores int8 convolution weights with a
 * scale; they are written back as the float32 values the import dequantized.
 */
class TfliteExportRealDataTest {
    static final int SAMPLES = 64;

    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "pretrainedResnet.tflite, cifar10-test",
        "kws_ref_model_float32.tflite, kws-test",
        "vww_96_float.tflite, vww01"
    })
    void exportedModelsReimportWithTheSameLayersAndLogits(String file, String data) throws Exception {
        Model original = Shared.model(file);
        ModelFormat<?> tflite = Shared.kernel().registry().find(PluginKind.FORMAT, "tflite", ModelFormat.class);
        Path exported = dir.resolve(file);
        write(tflite, original, exported);
        Model back = ModelFiles.read(Shared.kernel().registry(), exported);

        assertEquals(original.inputs(), back.inputs());
        assertEquals(names(original), names(back), "layer names");
        assertEquals(
                original.ops().stream().map(Op::type).toList(),
                back.ops().stream().map(Op::type).toList());
        for (int i = 0; i < original.ops().size(); i++) {
            List<String> pa = original.ops().get(i).parameters();
            List<String> pb = back.ops().get(i).parameters();
            assertEquals(pa.size(), pb.size(), original.ops().get(i).name());
            for (int k = 0; k < pa.size(); k++) {
                assertEquals(
                        original.constant(pa.get(k)).shape(),
                        back.constant(pb.get(k)).shape());
                assertArrayEquals(
                        bits(original.constant(pa.get(k)).data()),
                        bits(back.constant(pb.get(k)).data()),
                        original.ops().get(i).name() + " " + pa.get(k));
            }
        }

        Dataset d = Shared.dataset(data);
        int n = Math.min(SAMPLES, d.size());
        float[] x = new float[n * d.sampleShape().size()];
        for (int i = 0; i < n; i++) {
            d.read(i, x, i * d.sampleShape().size());
        }
        float[] a = Shared.forward(original, x, n);
        float[] b = Shared.forward(back, x, n);
        assertEquals(a.length, b.length);
        double worst = 0;
        for (int i = 0; i < a.length; i++) {
            worst = Math.max(worst, Math.abs(a[i] - b[i]));
        }
        System.out.printf(
                "%s: exported %,d bytes, %d layers; largest logit difference after re-import %s on %d" + " samples%n",
                file, Files.size(exported), back.ops().size(), worst, n);
        assertTrue(worst <= 1e-6, file + ": largest logit difference " + worst + " on " + n + " samples");
    }

    /**
     * The HAR CNN trained here (2 epochs, seed 0: enough for a real, non-trivial model), BatchNorm folded, exported
     * and imported again: the same logits to 1e-6 on every window of the test set.
     */
    @org.junit.jupiter.api.Test
    void trainedHarModelRoundTripsOnTheWholeTestSet() throws Exception {
        var trained = io.tinyptq.kernel.train.Trainer.train(
                BoundBackends.withDefaults(Shared.cpu()),
                io.tinyptq.zoo.Zoo.build("har-cnn", 0),
                Shared.dataset("har-train"),
                new io.tinyptq.kernel.train.Trainer.Settings(2, 1e-3, 32, 0.1, 2, 0),
                io.tinyptq.api.spi.ProgressListener.NONE,
                new io.tinyptq.kernel.pipeline.CancellationToken());
        Model folded = io.tinyptq.api.model.BatchNormFolding.fold(trained.model());
        ModelFormat<?> tflite = Shared.kernel().registry().find(PluginKind.FORMAT, "tflite", ModelFormat.class);
        Path exported = dir.resolve("har-cnn.tflite");
        write(tflite, trained.model(), exported);
        Model back = ModelFiles.read(Shared.kernel().registry(), exported);
        assertEquals(
                folded.ops().stream().map(Op::type).toList(),
                back.ops().stream().map(Op::type).toList());
        Dataset test = Shared.dataset("har-test");
        int sample = test.sampleShape().size();
        double worst = 0;
        for (int start = 0; start < test.size(); start += 256) {
            int n = Math.min(256, test.size() - start);
            float[] x = new float[n * sample];
            for (int i = 0; i < n; i++) {
                test.read(start + i, x, i * sample);
            }
            float[] a = Shared.forward(folded, x, n);
            float[] b = Shared.forward(back, x, n);
            for (int i = 0; i < a.length; i++) {
                worst = Math.max(worst, Math.abs(a[i] - b[i]));
            }
        }
        System.out.printf(
                "har-cnn (trained 2 epochs): exported %,d bytes; largest logit difference after re-import %s"
                        + " on %d test windows%n",
                Files.size(exported), worst, test.size());
        assertTrue(worst <= 1e-6, "largest logit difference " + worst);
    }

    private static <O extends Record> void write(ModelFormat<O> format, Model m, Path file) {
        format.write(m, file, format.defaultOptions());
    }

    private static List<String> names(Model m) {
        return m.ops().stream().map(Op::name).toList();
    }

    private static int[] bits(float[] v) {
        int[] r = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            r[i] = Float.floatToRawIntBits(v[i]);
        }
        return r;
    }
}
