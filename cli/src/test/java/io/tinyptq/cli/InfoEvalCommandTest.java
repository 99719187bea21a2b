package io.tinyptq.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code info} and {@code eval} on a golden TFLite file: {@code golden/tiny.tflite} is the model
 * {@code TfliteFormatTest.tiny()} writes (plugins-formats): input [4,4,2]; conv 3x3 SAME to 3 channels with bias
 * (relu) -> add -> depthwise 3x3 stride 2 without bias (relu6) -> pad -> max pool 2x2 -> avg pool 2x2 SAME -> mean
 * -> reshape -> FC 3 -> 4 with bias -> softmax.
 */
class InfoEvalCommandTest {
    @TempDir
    Path dir;

    static Path golden() throws Exception {
        return Path.of(
                InfoEvalCommandTest.class.getResource("/golden/tiny.tflite").toURI());
    }

    @Test
    void infoCountsMacsParamsAndTheTable1Convention() throws Exception {
        CliTest.Result r =
                CliTest.run("info", "--model", golden().toString(), "--json", "--wbits", "4", "--abits", "8");
        assertEquals(0, r.code(), r.err());
        // MACs: conv 4*4*3 outputs x 3*3*2 taps = 864; depthwise 2*2*3 x 9 = 108; FC 4 x 3 = 12.
        assertTrue(r.out().contains("\"macs\":984,"), r.out());
        // Table 1 adds the conv's bias per output (48; the depthwise has none), the average pool's input and output
        // (12 + 12) and the mean's (12 + 3).
        assertTrue(r.out().contains("\"macs_table1\":1071,"), r.out());
        // conv 54 + 3, depthwise 27, FC 12 + 4.
        assertTrue(r.out().contains("\"params\":100,"), r.out());
        assertTrue(r.out().contains("\"bops\":31488,"), r.out());
        assertTrue(
                r.out()
                        .contains(
                                "{\"name\":\"model/conv2d\",\"op\":\"conv2d\",\"inputs\":[[4,4,2]],\"output\":[4,4,3],"
                                        + "\"macs\":864,\"params\":57,\"activation\":48,\"table1\":48}"),
                r.out());

        CliTest.Result text = CliTest.run("info", "--model", golden().toString());
        assertEquals(0, text.code(), text.err());
        assertTrue(
                text.out()
                        .startsWith("model tiny (" + golden() + "): 11 layers; input input_1 [4,4,2]; output"
                                + " Identity [4]"),
                text.out());
        assertTrue(
                text.out()
                        .matches("(?s).*\nmodel/depthwise_conv2d\\s+depthwise_conv2d\\s+\\[4,4,3]\\s+\\[2,2,3]\\s+108"
                                + "\\s+27\\s+12\n.*"),
                text.out());
        assertTrue(text.out().contains("MACs, Table 1 convention              1,071"), text.out());
    }

    @Test
    void infoOnTheHarArchitectureCountsTable1sParametersWithBatchNorm() {
        CliTest.Result r = CliTest.run("info", "--arch", "har-cnn", "--json");
        assertEquals(0, r.code(), r.err());
        // Table 1: 523,462 parameters, BatchNorm's 4 per channel included.
        assertTrue(r.out().contains("\"params\":523462,"), r.out());
        assertTrue(
                r.out()
                        .contains("{\"name\":\"bn1\",\"op\":\"batch_norm\",\"inputs\":[[126,64]],\"output\":[126,64],"
                                + "\"macs\":0,\"params\":256,"),
                r.out());
        CliTest.Result both = CliTest.run("info");
        assertEquals(2, both.code());
        assertTrue(both.err().contains("give either --model FILE or --arch NAME"), both.err());
    }

    @Test
    void infoOnAFileThatIsNotAModelFailsClearly() throws Exception {
        Path f = Files.writeString(dir.resolve("x.tflite"), "not a flatbuffer");
        CliTest.Result r = CliTest.run("info", "--model", f.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().startsWith("error: " + f + " is not a TFLite model"), r.err());
        CliTest.Result ext = CliTest.run(
                "info", "--model", Files.writeString(dir.resolve("m.onnx"), "x").toString());
        assertTrue(
                ext.err().contains("no model format reads 'm.onnx' (.onnx); known extensions: .tflite (tflite)"),
                ext.err());
    }

    /** Eight records of [label u8][4x4x2 f32]; a descriptor for them; returns the descriptor. */
    Path tinyDataset(String shape) throws Exception {
        int sample = 32;
        ByteBuffer b = ByteBuffer.allocate(8 * (1 + 4 * sample)).order(ByteOrder.LITTLE_ENDIAN);
        for (int r = 0; r < 8; r++) {
            b.put((byte) (r % 4));
            for (int i = 0; i < sample; i++) {
                b.putFloat((float) Math.sin(r * 31 + i));
            }
        }
        Files.write(dir.resolve("tiny.bin"), b.array());
        return Files.writeString(dir.resolve("tiny-data.yaml"), """
                layout: records
                file: tiny.bin
                dtype: f32
                count: 8
                shape: %s
                classes: 4
                """.formatted(shape));
    }

    @Test
    void evalReportsAccuracyPerClassAndConfusionAsJson() throws Exception {
        Path d = tinyDataset("[4, 4, 2]");
        CliTest.Result r = CliTest.run(
                "eval",
                "--model",
                golden().toString(),
                "--data",
                d.toString(),
                "--data-root",
                dir.toString(),
                "--json",
                "--batch",
                "3");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("eval [==============================] 8/8"), "progress bar on stderr: " + r.err());
        Matcher m = Pattern.compile("\"samples\":8,\"correct\":(\\d+),\"accuracy\":([0-9.]+),")
                .matcher(r.out());
        assertTrue(m.find(), r.out());
        assertEquals(100.0 * Integer.parseInt(m.group(1)) / 8, Double.parseDouble(m.group(2)), 1e-9);
        assertTrue(r.out().contains("\"per_class\":[{\"class\":0,\"samples\":2,"), r.out());
        assertTrue(r.out().matches("(?s).*\"confusion\":\\[\\[\\d,\\d,\\d,\\d],\\[\\d,\\d,\\d,\\d],.*"), r.out());

        CliTest.Result limited = CliTest.run(
                "eval",
                "--model",
                golden().toString(),
                "--data",
                d.toString(),
                "--data-root",
                dir.toString(),
                "--limit",
                "5",
                "--no-progress");
        assertEquals(0, limited.code(), limited.err());
        assertTrue(limited.out().contains(": 5 of 8 samples of [4,4,2], 4 classes"), limited.out());
        assertTrue(limited.out().contains("confusion matrix (rows: label, columns: prediction)"), limited.out());
        assertEquals("", limited.err());
    }

    @Test
    void evalExplainsMismatchesAndUnknownDatasets() throws Exception {
        Path d = tinyDataset("[4, 8, 1]");
        CliTest.Result r = CliTest.run(
                "eval",
                "--model",
                golden().toString(),
                "--data",
                d.toString(),
                "--data-root",
                dir.toString(),
                "--no-progress");
        assertEquals(2, r.code());
        assertEquals(
                "error: dataset 'tiny-data' has samples of shape [4,8,1] but model 'tiny' input 'input_1' expects"
                        + " [4,4,2]",
                r.err().strip());

        CliTest.Result unknown = CliTest.run(
                "eval", "--model", golden().toString(), "--data", "no-such-set", "--datasets", dir.toString());
        assertEquals(2, unknown.code());
        assertTrue(
                unknown.err()
                        .startsWith("error: no dataset descriptor 'no-such-set': not a file, and not a"
                                + " descriptor name in " + dir + " (known: tiny-data)"),
                unknown.err());
    }

    /**
     * {@code golden/tiny-int8.tflite} is the fully-integer file {@code TfliteIntegerImportTest.boundaryFile()} writes
     * (plugins-formats): float input [4,4,2] -> QUANTIZE (0.5, -1) -> conv 3x3 to 3 channels (per-channel int8
     * weights, int32 bias) -> depthwise 3x3 stride 2 (per-channel INT4 weights, int32 bias) -> reshape [12] -> FC
     * 12 -> 4 (per-tensor int8 weights, int32 bias) -> softmax -> DEQUANTIZE -> float output [4].
     */
    static Path goldenInt8() throws Exception {
        return Path.of(InfoEvalCommandTest.class
                .getResource("/golden/tiny-int8.tflite")
                .toURI());
    }

    @Test
    void infoOnAFullyIntegerFileCountsItsStoredBytes() throws Exception {
        CliTest.Result r = CliTest.run("info", "--model", goldenInt8().toString(), "--json");
        assertEquals(0, r.code(), r.err());
        // Weights: conv 54 int8 + depthwise 27 int4 (14 bytes) + FC 48 int8; biases 3 + 3 + 4 int32.
        assertTrue(
                r.out()
                        .contains("\"integer\":{\"weight_bytes\":116,\"bias_bytes\":40,\"other_bytes\":0,"
                                + "\"parameter_bytes\":156,"),
                r.out());
        // Peak while the conv runs: its int8 input (32, the quantized float input) and output (48).
        assertTrue(
                r.out()
                        .contains("\"peak_activation_bytes\":80,\"peak_memory_bytes\":236,"
                                + "\"weight_types\":{\"INT4\":27,\"INT8\":102},\"bias_types\":{\"INT32\":10}}"),
                r.out());
        assertTrue(r.out().contains("\"params\":139,"), r.out());
        // The C generator's layout. Constants: per convolution a 14-int shape (56 B), its weights packed (54 B int8;
        // 27 int4 in 14 B), int32 biases (4 B each) and requantization (an int32 multiplier and an int8 shift per
        // channel, 5 ints of header): conv 56 + 54 + 12 + 35 = 157, depthwise 56 + 14 + 12 + 35 = 117, FC (no shape)
        // 48 + 16 + 40 = 104; in all 378. Arena: the conv's 32-byte input beside its 48-byte output, 80.
        assertTrue(r.out().contains("\"device_memory\":{\"c\":{\"flash_bytes\":378,\"arena_bytes\":80}}"), r.out());

        CliTest.Result text = CliTest.run("info", "--model", goldenInt8().toString());
        assertEquals(0, text.code(), text.err());
        assertTrue(text.out().startsWith("model tiny-int8 (" + goldenInt8() + "): 5 layers;"), text.out());
        assertTrue(text.out().matches("(?s).*\n  weights\\s+116   bytes \\(27 INT4 \\+ 102 INT8\\)\n.*"), text.out());
        assertTrue(text.out().matches("(?s).*\n  biases\\s+40   bytes \\(10 INT32\\)\n.*"), text.out());
        assertTrue(!text.out().contains("peak memory at W8A8"), text.out());
        assertTrue(
                text.out().contains("on a device, c: 378 B constants (flash) + 80 B arena (RAM) = 458 B\n"),
                text.out());
    }

    @Test
    void evalRunsAFullyIntegerFileThroughTheIntegerRuntime() throws Exception {
        Path d = tinyDataset("[4, 4, 2]");
        FakeIntegerRuntime.last = null;
        CliTest.Result r = CliTest.run(
                "eval",
                "--model",
                goldenInt8().toString(),
                "--data",
                d.toString(),
                "--data-root",
                dir.toString(),
                "--runtime",
                "fake-integer",
                "--no-progress");
        assertEquals(0, r.code(), r.err());
        assertTrue(
                r.out()
                        .contains("backend  integer runtime 'fake-integer' (fully-integer model; input"
                                + " serving_default_input:0 quantized as INT8 scale [0.5] zero point [-1])"),
                r.out());
        assertTrue(r.out().contains(": 8 of 8 samples of [4,4,2], 4 classes"), r.out());
        assertEquals(5, FakeIntegerRuntime.last.graph().ops().size());
        assertEquals(2, FakeIntegerRuntime.last.boundary().size());

        // Without --runtime the file runs through the integer module's 'reference' runtime.
        CliTest.Result reference = CliTest.run(
                "eval",
                "--model",
                goldenInt8().toString(),
                "--data",
                d.toString(),
                "--data-root",
                dir.toString(),
                "--no-progress");
        assertEquals(0, reference.code(), reference.err());
        assertTrue(reference.out().contains("backend  integer runtime 'reference'"), reference.out());

        // The runtime's options from the command line, validated like a recipe's.
        CliTest.Result xnnpack = CliTest.run(
                "eval",
                "--model",
                goldenInt8().toString(),
                "--data",
                d.toString(),
                "--data-root",
                dir.toString(),
                "--runtime-option",
                "arithmetic=xnnpack",
                "--no-progress");
        assertEquals(0, xnnpack.code(), xnnpack.err());
        assertTrue(xnnpack.out().contains("integer runtime 'reference' [arithmetic=xnnpack]"), xnnpack.out());
        CliTest.Result badOption = CliTest.run(
                "eval",
                "--model",
                goldenInt8().toString(),
                "--data",
                d.toString(),
                "--data-root",
                dir.toString(),
                "--runtime-option",
                "arithmetic=fast",
                "--no-progress");
        assertEquals(2, badOption.code());
        assertTrue(
                badOption
                        .err()
                        .contains(
                                "key 'arithmetic': expected one of [tflite_reference, tflite_single_rounding, xnnpack], found the"
                                        + " string 'fast'"),
                badOption.err());

        CliTest.Result missing = CliTest.run(
                "eval",
                "--model",
                goldenInt8().toString(),
                "--data",
                d.toString(),
                "--data-root",
                dir.toString(),
                "--runtime",
                "nosuch",
                "--no-progress");
        assertEquals(2, missing.code());
        assertTrue(
                missing.err()
                        .contains("unknown integer plugin 'nosuch'; known integer plugins: [fake-integer,"
                                + " reference]"),
                missing.err());
    }
}
