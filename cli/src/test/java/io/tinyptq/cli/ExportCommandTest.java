package io.tinyptq.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyptq.api.integer.ElementType;
import io.tinyptq.api.integer.IntegerModel;
import io.tinyptq.api.integer.TensorQuant;
import io.tinyptq.api.model.Model;
import io.tinyptq.api.model.Op;
import io.tinyptq.kernel.Kernel;
import io.tinyptq.kernel.data.ModelFiles;
import io.tinyptq.kernel.store.QuantizedModelStore;
import io.tinyptq.zoo.Zoo;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code tinyptq export}: TFLite files and stored models written as TFLite, and its error messages. */
class ExportCommandTest {
    @TempDir
    Path dir;

    static Model read(Path file) {
        return ModelFiles.read(Kernel.discover().registry(), file);
    }

    /** Same layer names and types, and the same constants of each layer, in order. */
    static void assertSameLayers(Model expected, Model actual) {
        assertEquals(
                expected.ops().stream().map(Op::name).toList(),
                actual.ops().stream().map(Op::name).toList());
        assertEquals(
                expected.ops().stream().map(Op::type).toList(),
                actual.ops().stream().map(Op::type).toList());
        for (int i = 0; i < expected.ops().size(); i++) {
            var pa = expected.ops().get(i).parameters();
            var pb = actual.ops().get(i).parameters();
            assertEquals(pa.size(), pb.size(), expected.ops().get(i).name());
            for (int k = 0; k < pa.size(); k++) {
                assertEquals(
                        expected.constant(pa.get(k)).shape(),
                        actual.constant(pb.get(k)).shape());
                assertArrayEquals(
                        expected.constant(pa.get(k)).data(),
                        actual.constant(pb.get(k)).data());
            }
        }
    }

    @Test
    void exportsATfliteFileAsTfliteAndPrintsWhatItWrote() throws Exception {
        Path out = dir.resolve("tiny-copy.tflite");
        CliTest.Result r = CliTest.run("export", InfoEvalCommandTest.golden().toString(), "-o", out.toString());
        assertEquals(0, r.code(), r.err());
        // The golden file's int8 conv weights and its folded DEQUANTIZE / RESHAPE come back as float32 constants.
        assertEquals(
                "wrote " + out + " (tflite): 11 layers (conv2d, add, depthwise_conv2d, pad, max_pool, avg_pool,"
                        + " mean, reshape x2, fully_connected, softmax), 100 parameters, "
                        + String.format(java.util.Locale.ROOT, "%,d", Files.size(out)) + " bytes\n",
                r.out());
        assertSameLayers(read(InfoEvalCommandTest.golden()), read(out));
    }

    @Test
    void exportsAFullyIntegerFileAsAFullyIntegerFile() throws Exception {
        Path out = dir.resolve("tiny-int8-copy.tflite");
        CliTest.Result r = CliTest.run(
                "export", InfoEvalCommandTest.goldenInt8().toString(), "-o", out.toString(), "--format", "tflite");
        assertEquals(0, r.code(), r.err());
        // Weights as written: conv 54 int8 + depthwise 27 int4 written as int8 + FC 48 int8; biases 3 + 3 + 4 int32.
        assertEquals(
                "wrote " + out + " (tflite, fully-integer): 5 layers (conv2d, depthwise_conv2d, reshape,"
                        + " fully_connected, softmax), weights 129 bytes, biases 40 bytes, "
                        + String.format(java.util.Locale.ROOT, "%,d", Files.size(out)) + " bytes\n",
                r.out());
        assertTrue(
                r.err()
                        .contains("note: layer 'model/depthwise_conv2d' has INT4 weights; TFLite's"
                                + " DEPTHWISE_CONV_2D is written with INT8 weights holding the 4-bit values"),
                r.err());

        Kernel k = Kernel.discover();
        assertTrue(ModelFiles.isInteger(k.registry(), out), "the written file is fully-integer");
        IntegerModel original = ModelFiles.readInteger(k.registry(), InfoEvalCommandTest.goldenInt8());
        IntegerModel back = ModelFiles.readInteger(k.registry(), out);
        assertSameLayers(original.graph(), back.graph());
        assertEquals(original.boundary(), back.boundary(), "the float input and output keep their quantization");
        for (String t : original.quant().keySet()) {
            TensorQuant a = original.quant(t);
            TensorQuant b = back.quant(t);
            if (a.type() == ElementType.INT4 && t.startsWith("model/depthwise_conv2d")) {
                a = new TensorQuant(ElementType.INT8, a.scale(), a.zeroPoint(), a.axis());
            }
            assertEquals(a, b, t);
        }
        for (String c : original.values().keySet()) {
            assertArrayEquals(original.values(c), back.values(c), c);
        }
    }

    @Test
    void fullyIntegerExportOfARunRefusesWhatItCannotWrite() throws Exception {
        Model toy = Zoo.build("toy-cnn", 1);
        QuantizedModelStore.save(toy, null, dir.resolve("float"));
        CliTest.Result r = CliTest.run(
                "export",
                dir.resolve("float").toString(),
                "-o",
                dir.resolve("f.tflite").toString(),
                "--format",
                "tflite-int8");
        assertEquals(2, r.code());
        assertTrue(
                r.err()
                        .contains("holds a float model; --format tflite-int8 writes a model quantized under target"
                                + " tflite: run a recipe on it with --set quantization.target=tflite"),
                r.err());

        // A model quantized for the paper's placement: refused, naming the key to set.
        var qm = io.tinyptq.api.quant.QuantizedModel.simulate(toy, io.tinyptq.api.quant.QuantScheme.of(8, 8));
        for (var q : qm.weightQuantizers().values()) {
            int ch = toy.constant(((io.tinyptq.api.model.Op.Layer) toy.op(q.target())).weight())
                    .shape()
                    .dim(q.spec().channelAxis());
            float[] s = new float[ch];
            java.util.Arrays.fill(s, 0.01f);
            q.setParams(new io.tinyptq.api.quant.QuantParams(s, new float[ch]));
        }
        qm.activationQuantizers()
                .values()
                .forEach(q -> q.setParams(new io.tinyptq.api.quant.QuantParams(new float[] {0.1f}, new float[] {0f})));
        QuantizedModelStore.save(qm.model(), qm, dir.resolve("paper"));
        r = CliTest.run(
                "export",
                dir.resolve("paper").toString(),
                "-o",
                dir.resolve("p.tflite").toString(),
                "--format",
                "tflite-int8");
        assertEquals(2, r.code());
        assertTrue(
                r.err().contains("was quantized for target simulated")
                        && r.err().contains("quantization.target: tflite (--set quantization.target=tflite)"),
                r.err());
        r = CliTest.run(
                "export",
                dir.resolve("paper").toString(),
                "-o",
                dir.resolve("p.tflite").toString(),
                "--io",
                "uint8");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--io: int8 or float expected, got 'uint8'"), r.err());
        r = CliTest.run(
                "export",
                dir.resolve("paper").toString(),
                "-o",
                dir.resolve("p.tflite").toString(),
                "--io",
                "float");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--io float applies to fully-integer exports"), r.err());
    }

    @Test
    void exportsAStoredModelWithAnExplicitFormat() throws Exception {
        Model har = Zoo.build("har-cnn", 3);
        Path stored = dir.resolve("har");
        QuantizedModelStore.save(har, null, stored);
        Path out = dir.resolve("sub/har.bin");
        CliTest.Result r = CliTest.run("export", stored.toString(), "--format", "tflite", "-o", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(
                r.out()
                        .startsWith("wrote " + out + " (tflite): 6 layers (conv1d x2, max_pool, reshape,"
                                + " fully_connected x2), 522,950 parameters, "),
                r.out());
        assertTrue(r.out().endsWith("; 2 BatchNorm layer(s) folded\n"), r.out());
        // Read back as TFLite (the .bin extension claims no format): the Conv1D layers and 1-D pool come back,
        // with the BatchNorms folded into the convolutions.
        Path copy = Files.copy(out, dir.resolve("har.tflite"));
        assertSameLayers(io.tinyptq.api.model.BatchNormFolding.fold(har), read(copy));

        // SAME padding as a stored model reads it back (an equal Padding record, not the same instance).
        Model toy = Zoo.build("toy-cnn", 1);
        QuantizedModelStore.save(toy, null, dir.resolve("toy"));
        r = CliTest.run(
                "export",
                dir.resolve("toy").toString(),
                "-o",
                dir.resolve("toy.tflite").toString());
        assertEquals(0, r.code(), r.err());
        Model back = read(dir.resolve("toy.tflite"));
        assertSameLayers(toy, back);
        assertEquals(io.tinyptq.api.model.Padding.SAME, ((Op.DepthwiseConv2D) back.op("dw")).padding());
    }

    @Test
    void anUnknownFormatOrExtensionListsTheKnownFormats() throws Exception {
        Path golden = InfoEvalCommandTest.golden();
        CliTest.Result r = CliTest.run(
                "export",
                golden.toString(),
                "--format",
                "onnx",
                "-o",
                dir.resolve("m.onnx").toString());
        assertEquals(2, r.code());
        assertEquals(
                "error: no model format 'onnx'; known formats: tflite (.tflite), tflite-int8 (a run quantized under target"
                        + " tflite as a fully-integer TFLite file)\n",
                r.err());
        r = CliTest.run("export", golden.toString(), "-o", dir.resolve("m.onnx").toString());
        assertEquals(2, r.code());
        assertEquals(
                "error: no model format claims the extension .onnx of 'm.onnx'; name one with --format; known"
                        + " formats: tflite (.tflite)\n",
                r.err());
        assertFalse(Files.exists(dir.resolve("m.onnx")));
    }

    @Test
    void anUnwritableOutputOrAMissingModelFailsClearly() throws Exception {
        Path file = Files.writeString(dir.resolve("plain.txt"), "x");
        Path out = file.resolve("m.tflite");
        CliTest.Result r = CliTest.run("export", InfoEvalCommandTest.golden().toString(), "-o", out.toString());
        assertEquals(2, r.code());
        assertEquals("error: -o " + out + ": " + file + " is a file, not a folder to write into\n", r.err());
        r = CliTest.run(
                "export",
                dir.resolve("none.tflite").toString(),
                "-o",
                dir.resolve("x.tflite").toString());
        assertEquals(2, r.code());
        assertEquals("error: model file " + dir.resolve("none.tflite") + " does not exist\n", r.err());
    }
}
