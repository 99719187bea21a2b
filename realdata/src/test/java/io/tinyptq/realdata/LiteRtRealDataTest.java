package io.tinyptq.realdata;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyptq.api.model.Model;
import io.tinyptq.api.spi.Dataset;
import io.tinyptq.api.spi.ModelFormat;
import io.tinyptq.api.spi.PluginKind;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The three MLPerf Tiny float models, exported by tinyptq's TFLite writer and run by LiteRT (an independent reader
 * and interpreter, {@link LiteRt}) on the full shared test sets: the same accuracy as tinyptq's own evaluation, the
 * same prediction on every sample, and the same class probabilities up to float summation order.
 */
class LiteRtRealDataTest {
    /** Largest difference of a softmax output: XNNPACK sums in another order than the cpu backend (measured: 3.7e-6). */
    static final double PROBABILITY_TOLERANCE = 1e-5;

    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0} on {1}: {2} %")
    @CsvSource({
        "pretrainedResnet.tflite, cifar10-test, 87.19",
        "kws_ref_model_float32.tflite, kws-test, 91.86",
        "vww_96_float.tflite, vww01, 85.30"
    })
    void exportedFloatModelsRunInLiteRtWithTinyptqsAccuracy(String file, String data, double accuracy)
            throws Exception {
        Model model = Shared.model(file);
        ModelFormat<?> tflite = Shared.kernel().registry().find(PluginKind.FORMAT, "tflite", ModelFormat.class);
        Path exported = dir.resolve(file);
        write(tflite, model, exported);

        Dataset d = Shared.dataset(data);
        int n = d.size();
        int classes = d.numClasses();
        float[] lite = LiteRt.run(exported, d, n, classes);
        float[] ours = Shared.outputs(model, d, n);
        assertEquals(ours.length, lite.length);

        int liteCorrect = 0;
        int oursCorrect = 0;
        int disagree = 0;
        double worst = 0;
        for (int i = 0; i < n; i++) {
            int row = i * classes;
            int a = Shared.argmax(classes, k -> lite[row + k]);
            int b = Shared.argmax(classes, k -> ours[row + k]);
            liteCorrect += a == d.label(i) ? 1 : 0;
            oursCorrect += b == d.label(i) ? 1 : 0;
            disagree += a != b ? 1 : 0;
            for (int k = 0; k < classes; k++) {
                worst = Math.max(worst, Math.abs(lite[i * classes + k] - ours[i * classes + k]));
            }
        }
        double liteAccuracy = 100.0 * liteCorrect / n;
        System.out.printf(
                "%s exported (%,d bytes) and run by LiteRT on %,d samples of %s: %.2f %% (tinyptq %.2f %%),"
                        + " %d different predictions, largest probability difference %.3g%n",
                file, Files.size(exported), n, data, liteAccuracy, 100.0 * oursCorrect / n, disagree, worst);
        assertEquals(accuracy, liteAccuracy, 0.005, file + ": LiteRT's accuracy on " + data);
        assertEquals(oursCorrect, liteCorrect, file + ": correct predictions, LiteRT against tinyptq");
        assertEquals(0, disagree, file + ": samples where LiteRT and tinyptq predict different classes");
        assertTrue(worst <= PROBABILITY_TOLERANCE, file + ": largest probability difference " + worst);
    }

    private static <O extends Record> void write(ModelFormat<O> format, Model m, Path file) {
        format.write(m, file, format.defaultOptions());
    }
}
