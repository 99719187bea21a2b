package io.tinyptq.realdata;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.tinyptq.api.integer.IntegerModel;
import io.tinyptq.api.spi.Dataset;
import io.tinyptq.cli.Main;
import io.tinyptq.integer.ReferenceIntegerRuntime;
import io.tinyptq.kernel.data.ModelFiles;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The path from a float model to a deployable int8 file, on the real models: {@code tinyptq run} under target
 * {@code tflite} (W8A8 with MSE, W4A8 with the paper's best recipe at reduced iterations), {@code tinyptq export} of
 * its model as a fully-integer TFLite file, and that file run by tinyptq's integer runtime (both arithmetics) and by
 * LiteRT on the full shared test set.
 *
 * <ul>
 *   <li>The run's quantized accuracy is its lowered model's in TFLite's reference arithmetic; it also reports the
 *       model's accuracy in XNNPACK's arithmetic, and the exported file read back gives exactly that one: the file
 *       holds the run's integers.</li>
 *   <li>In XNNPACK's arithmetic tinyptq gives LiteRT's accuracy within 0.05 points and its int8 outputs within one
 *       step on at least 99.9 % of the values (as for the MLPerf int8 files).</li>
 *   <li>The run reports both: its accuracy (TFLite's reference arithmetic, TFLite Micro's) and {@code
 *       integer.xnnpack_accuracy}, which is LiteRT's on the file.</li>
 *   <li>With 4-bit weights, LiteRT's CONV_2D on packed INT4 filters rounds a few values apart from its int8 path;
 *       {@code export --unpacked-int4} (the same values in int8 tensors) gives a file bit-identical to tinyptq's
 *       integer runtime.</li>
 * </ul>
 * The measured table is in docs/results/studies/2026-12-deploy-int8.md.
 */
class TfliteTargetRealDataTest {
    static final String BEST = QuantizedAccuracyRealDataTest.BEST;

    static Stream<Arguments> cases() {
        return Stream.of(
                row(
                        "ResNet-8 W8A8 mse",
                        "pretrainedResnet_quant.tflite",
                        "mse",
                        "models/pretrainedResnet.tflite",
                        "cifar10-test",
                        "--calib-data",
                        "cifar10-train5k",
                        "--wbits",
                        "8"),
                // The suite's budget: the first 2,000 test images (docs/results/studies/2026-12-deploy-int8.md has all
                // 10,000).
                row(
                        "ResNet-8 W4A8 paper/best, 200 iterations, 2,000 images",
                        "pretrainedResnet_quant.tflite",
                        BEST,
                        "models/pretrainedResnet.tflite",
                        "cifar10-test",
                        "--calib-data",
                        "cifar10-train5k",
                        "--wbits",
                        "4",
                        "--set",
                        "optimize.round.iterations=200",
                        "--set",
                        "postprocess.bias-tuning.iterations=200",
                        "--limit",
                        "2000"),
                row(
                        "DS-CNN W8A8 mse",
                        "kws_ref_model.tflite",
                        "mse",
                        "models/kws_ref_model_float32.tflite",
                        "kws-rest",
                        "--calib-data",
                        "kws-calibration",
                        "--calib",
                        "120",
                        "--wbits",
                        "8"),
                row(
                        "DS-CNN W4A8 paper/best, 200 iterations",
                        "kws_ref_model.tflite",
                        BEST,
                        "models/kws_ref_model_float32.tflite",
                        "kws-rest",
                        "--calib-data",
                        "kws-calibration",
                        "--calib",
                        "120",
                        "--wbits",
                        "4",
                        "--set",
                        "optimize.round.iterations=200",
                        "--set",
                        "postprocess.bias-tuning.iterations=200"),
                row(
                        "MobileNetV1-0.25 W8A8 mse",
                        "vww_96_int8.tflite",
                        "mse",
                        "models/vww_96_float.tflite",
                        "vww01-rest",
                        "--calib-data",
                        "vww01-calibration",
                        "--calib",
                        "100",
                        "--wbits",
                        "8"),
                row(
                        "MobileNetV1-0.25 W4A8 paper/best, 100 iterations",
                        "vww_96_int8.tflite",
                        BEST,
                        "models/vww_96_float.tflite",
                        "vww01-rest",
                        "--calib-data",
                        "vww01-calibration",
                        "--calib",
                        "100",
                        "--wbits",
                        "4",
                        "--set",
                        "optimize.round.iterations=100",
                        "--set",
                        "postprocess.bias-tuning.iterations=100"));
    }

    private static Arguments row(
            String name, String reference, String recipe, String model, String data, String... more) {
        List<String> args = new ArrayList<>(List.of(
                "run",
                recipe,
                "--model",
                model,
                "--data",
                data,
                "--abits",
                "8",
                "--set",
                "quantization.target=tflite"));
        args.addAll(List.of(more));
        return Arguments.of(name, reference, data, args);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void runExportAndLiteRtAgree(String name, String reference, String data, List<String> args, @TempDir Path dir)
            throws Exception {
        check(name, Shared.root().resolve("models").resolve(reference), data, args, dir);
    }

    /** The paper's HAR CNN trained here (2 epochs, seed 0), then W8A8 and W4A8 under target tflite. */
    @Test
    void harCnnTrainedHere(@TempDir Path dir) throws Exception {
        String model = dir.resolve("har-cnn").toString();
        QuantizedAccuracyRealDataTest.run(List.of(
                "train",
                "har-cnn",
                "--data",
                "har-train",
                "--eval",
                "har-test",
                "--epochs",
                "2",
                "--seed",
                "0",
                "--out",
                model));
        List<String> common = List.of(
                "--model",
                model,
                "--data",
                "har-test",
                "--calib-data",
                "har-train",
                "--abits",
                "8",
                "--set",
                "quantization.target=tflite");
        List<String> w8 = new ArrayList<>(List.of("run", "mse", "--wbits", "8"));
        w8.addAll(common);
        check("HAR CNN W8A8 mse", null, "har-test", w8, dir.resolve("w8"));
        List<String> w4 =
                new ArrayList<>(List.of("run", BEST, "--wbits", "4", "--set", "optimize.round.iterations=300"));
        w4.addAll(common);
        check("HAR CNN W4A8 paper/best, 300 iterations", null, "har-test", w4, dir.resolve("w4"));
    }

    /**
     * A model ending in a global average pool written as MEAN (the zoo's toy CNN, trained here on generated shapes):
     * LiteRT's XNNPACK delegate takes int8 MEAN, and tinyptq's XNNPACK arithmetic computes it as XNNPACK does
     * (before that, 218 of 2,000 outputs were one step apart).
     */
    @Test
    void meanAsLiteRtComputesIt(@TempDir Path dir) throws Exception {
        String model = dir.resolve("toy").toString();
        QuantizedAccuracyRealDataTest.run(List.of(
                "train",
                "toy-cnn",
                "--data",
                "synthetic-train",
                "--eval",
                "synthetic-test",
                "--seed",
                "0",
                "--out",
                model));
        check(
                "toy CNN W8A8 mse (MEAN)",
                null,
                "synthetic-test",
                List.of(
                        "run",
                        "mse",
                        "--model",
                        model,
                        "--data",
                        "synthetic-test",
                        "--calib-data",
                        "synthetic-train",
                        "--calib",
                        "256",
                        "--set",
                        "quantization.target=tflite"),
                dir.resolve("w8"));
    }

    private static void check(String name, Path referenceFile, String data, List<String> args, Path dir)
            throws Exception {
        LiteRt.modules();
        Path out = dir.resolve("run");
        List<String> runArgs = new ArrayList<>(args);
        runArgs.addAll(List.of("--out", out.toString()));
        JsonNode report = QuantizedAccuracyRealDataTest.run(runArgs);
        Path file = dir.resolve("model-int8.tflite");
        cli("export", out.resolve("model").toString(), "-o", file.toString());

        IntegerModel model = ModelFiles.readInteger(Shared.kernel().registry(), file);
        Dataset d = Shared.dataset(data);
        int limit = args.indexOf("--limit");
        int n = limit < 0 ? d.size() : Integer.parseInt(args.get(limit + 1));
        int classes = d.numClasses();
        byte[] lite = IntegerLiteRtRealDataTest.liteRt(file, model, d, n);
        ReferenceIntegerRuntime runtime = new ReferenceIntegerRuntime();
        var xnnpack = IntegerLiteRtRealDataTest.agreement(
                lite,
                IntegerLiteRtRealDataTest.integerOutputs(runtime, IntegerLiteRtRealDataTest.XNNPACK, model, d, n),
                d,
                n,
                classes);
        double fp = report.get("fp_accuracy").asDouble();
        double accuracy = report.get("accuracy").asDouble();
        JsonNode integer = report.get("integer");
        long size = Files.size(file);
        System.out.printf(
                "%s: FP %.2f %%, float simulation %.2f %%, integer (tflite_reference) %.2f %%, integer"
                        + " (xnnpack) %.2f %%, LiteRT %.2f %%; simulation vs integer: %d of %d outputs identical;"
                        + " LiteRT vs xnnpack: %s; file %,d bytes%s%n",
                name,
                fp,
                integer.get("simulated_accuracy").asDouble(),
                accuracy,
                xnnpack.oursAccuracy(),
                xnnpack.liteAccuracy(),
                integer.get("identical_outputs").asLong(),
                integer.get("outputs").asLong(),
                xnnpack,
                size,
                referenceFile == null ? "" : String.format(" (MLPerf int8 file %,d bytes)", Files.size(referenceFile)));

        assertEquals(
                xnnpack.liteAccuracy(),
                xnnpack.oursAccuracy(),
                0.05,
                name + ": arithmetic xnnpack against" + " LiteRT");
        if (name.contains("W4A8")) {
            // Packed INT4 filters: LiteRT's CONV_2D rounds a few values apart (measured: 251 of 100,000 ResNet-8
            // outputs; MobileNet 4 of 1,800, then 26 of 1,800 with no prediction changed once the depthwise weight
            // gradient was summed in fixed chunks and AdaRound ended on another model); the unpacked file is
            // bit-identical.
            assertTrue(
                    xnnpack.offByOne() + xnnpack.worse() <= xnnpack.values() / 50,
                    name + ": arithmetic xnnpack" + " against LiteRT, packed INT4 weights: " + xnnpack);
        } else {
            assertEquals(
                    0, xnnpack.offByOne() + xnnpack.worse(), name + ": arithmetic xnnpack against LiteRT: " + xnnpack);
        }
        if (name.contains("W4A8") && !name.startsWith("ResNet-8")) {
            // LiteRT's CONV_2D on packed INT4 filters rounds a few values apart from its int8 path; the same 4-bit
            // values in int8 tensors make the file bit-identical to the integer runtime (ResNet-8's, measured in
            // docs/results/studies/2026-12-deploy-int8.md, is left out of the suite for time).
            Path unpacked = dir.resolve("model-int8-unpacked.tflite");
            cli("export", out.resolve("model").toString(), "-o", unpacked.toString(), "--unpacked-int4");
            IntegerModel u = ModelFiles.readInteger(Shared.kernel().registry(), unpacked);
            var exact = IntegerLiteRtRealDataTest.agreement(
                    IntegerLiteRtRealDataTest.liteRt(unpacked, u, d, n),
                    IntegerLiteRtRealDataTest.integerOutputs(runtime, IntegerLiteRtRealDataTest.XNNPACK, u, d, n),
                    d,
                    n,
                    classes);
            System.out.printf(
                    "%s, 4-bit weights unpacked (%,d bytes): LiteRT vs xnnpack: %s%n",
                    name, Files.size(unpacked), exact);
            assertEquals(
                    0,
                    exact.offByOne() + exact.worse(),
                    name + ", unpacked INT4: LiteRT against arithmetic" + " xnnpack: " + exact);
        }
        assertEquals(
                report.get("integer").get("xnnpack_accuracy").asDouble(),
                xnnpack.oursAccuracy(),
                1e-9,
                name + ": the run's XNNPACK-arithmetic accuracy is the exported file's");
        if (name.startsWith("ResNet-8 W8A8")) {
            assertEquals(fp, accuracy, 0.3, name + ": within 0.3 points of the float model");
        }
    }

    private static void cli(String... args) {
        StringWriter err = new StringWriter();
        var cl = Main.commandLine();
        cl.setOut(new PrintWriter(new StringWriter()));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        assertEquals(0, code, String.join(" ", args) + "\n" + err);
    }
}
