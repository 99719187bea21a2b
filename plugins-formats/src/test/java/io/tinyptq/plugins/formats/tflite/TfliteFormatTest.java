package io.tinyptq.plugins.formats.tflite;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyptq.api.InvalidModelException;
import io.tinyptq.api.TinyPtqException;
import io.tinyptq.api.model.Activation;
import io.tinyptq.api.model.Model;
import io.tinyptq.api.model.Op;
import io.tinyptq.api.model.Padding;
import io.tinyptq.api.model.Shape;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TfliteFormatTest {
    static final int SAME = 0;
    static final int VALID = 1;
    static final int RELU = 1;
    static final int RELU6 = 3;
    static final int TANH = 4;

    @TempDir
    Path dir;

    final TfliteFormat format = new TfliteFormat();

    /** Per-channel int8 conv weights: scale and zero point of output channel c. */
    static final float[] CONV_SCALE = {0.5f, 0.25f, 0.125f};

    static final long[] CONV_ZERO = {0, 1, -2};

    static byte[] convQ() {
        byte[] q = new byte[3 * 3 * 3 * 2];
        for (int i = 0; i < q.length; i++) {
            q[i] = (byte) (i * 7 % 23 - 11);
        }
        return q;
    }

    static byte[] dwQ() {
        byte[] q = new byte[3 * 3 * 3];
        for (int i = 0; i < q.length; i++) {
            q[i] = (byte) (i - 13);
        }
        return q;
    }

    static final float[] FC = {0.1f, -0.2f, 0.3f, 0.4f, 0.5f, -0.6f, 0.7f, 0.8f, -0.9f, 1.0f, 1.1f, 1.2f};

    /**
     * Every supported operator: conv (int8 per-channel weights) -> add -> depthwise (weights from a folded
     * DEQUANTIZE) -> pad -> max pool -> avg pool -> mean (keep_dims) -> reshape -> FC (weights from a folded
     * RESHAPE) -> softmax, with names as the TFLite converter writes them.
     */
    static TfliteBuilder tiny() {
        TfliteBuilder t = new TfliteBuilder();
        int x = t.activation("input_1", 1, 4, 4, 2);
        int convW = t.int8s("model/conv2d/Conv2D", new int[] {3, 3, 3, 2}, convQ(), CONV_SCALE, CONV_ZERO, 0);
        int convB = t.floats("model/conv2d/BiasAdd/ReadVariableOp", new int[] {3}, 0.5f, -1f, 2f);
        int conv = t.activation(
                "model/activation/Relu;model/conv2d/BiasAdd;model/conv2d_9/Conv2D;model/conv2d/Conv2D1", 1, 4, 4, 3);
        t.op(3, new int[] {x, convW, convB}, new int[] {conv}, 1, TfliteBuilder.conv2d(SAME, 1, 1, RELU));
        int add = t.activation("model/activation_1/Relu;model/add/add", 1, 4, 4, 3);
        t.op(0, new int[] {conv, conv}, new int[] {add}, 11, TfliteBuilder.activationOnly(RELU));
        int dwQ = t.int8s("dw_int8", new int[] {1, 3, 3, 3}, dwQ(), new float[] {0.1f}, new long[] {0}, 0);
        int dwW = t.activation("dw_float", 1, 3, 3, 3);
        t.op(6, new int[] {dwQ}, new int[] {dwW});
        int dw = t.activation(
                "model/bn/FusedBatchNormV3;model/depthwise_conv2d/depthwise;model/other/depthwise", 1, 2, 2, 3);
        t.op(4, new int[] {add, dwW, -1}, new int[] {dw}, 2, TfliteBuilder.depthwise(SAME, 2, 2, 1, RELU6));
        int pads = t.int32s("model/pad/paddings", new int[] {4, 2}, 0, 0, 1, 0, 0, 1, 0, 0);
        int pad = t.activation("model/zero_padding2d/Pad", 1, 3, 3, 3);
        t.op(34, new int[] {dw, pads}, new int[] {pad});
        int max = t.activation("model/max_pooling2d/MaxPool", 1, 2, 2, 3);
        t.op(17, new int[] {pad}, new int[] {max}, 5, TfliteBuilder.pool(VALID, 1, 1, 2, 2, 0));
        int avg = t.activation("model/average_pooling2d/AvgPool", 1, 2, 2, 3);
        t.op(1, new int[] {max}, new int[] {avg}, 5, TfliteBuilder.pool(SAME, 1, 1, 2, 2, 0));
        int axes = t.int32s("model/gap/Mean/reduction_indices", new int[] {2}, 1, 2);
        int mean = t.activation("model/gap/Mean", 1, 1, 1, 3);
        t.op(40, new int[] {avg, axes}, new int[] {mean}, 27, TfliteBuilder.keepDims(true));
        int flatShape = t.int32s("model/flatten/Const", new int[] {2}, -1, 3);
        int flat = t.activation("model/flatten/Reshape", 1, 3);
        t.op(22, new int[] {mean, flatShape}, new int[] {flat});
        int fcFlat = t.floats("fc_flat", new int[] {12}, FC);
        int fcShape = t.int32s("fc_shape", new int[] {2}, 4, 3);
        int fcW = t.activation("model/dense/MatMul", 4, 3);
        t.op(22, new int[] {fcFlat, fcShape}, new int[] {fcW});
        int fcB = t.floats("model/dense/BiasAdd/ReadVariableOp", new int[] {4}, 0f, 0.1f, 0.2f, 0.3f);
        int fc = t.activation("model/dense/MatMul;model/dense/BiasAdd", 1, 4);
        t.op(9, new int[] {flat, fcW, fcB}, new int[] {fc}, 8, TfliteBuilder.activationOnly(0));
        int probs = t.activation("Identity", 1, 4);
        t.op(25, new int[] {fc}, new int[] {probs}, 9, TfliteBuilder.softmax(1f));
        return t;
    }

    Path tinyFile() throws Exception {
        TfliteBuilder t = tiny();
        // Input 0 is "input_1"; the last tensor tiny() adds is the softmax output "Identity".
        return t.write(dir.resolve("tiny.tflite"), new int[] {0}, new int[] {t.lastTensor()});
    }

    @Test
    void importsEveryOperatorWithLayoutsPaddingAndNames() throws Exception {
        Model m = format.read(tinyFile(), format.defaultOptions());
        assertEquals("tiny", m.name());
        assertEquals(Shape.of(4, 4, 2), m.inputs().get("input_1"));
        assertEquals(
                List.of(
                        "model/conv2d",
                        "model/add",
                        "model/depthwise_conv2d",
                        "model/zero_padding2d",
                        "model/max_pooling2d",
                        "model/average_pooling2d",
                        "model/gap/mean",
                        "model/gap",
                        "model/flatten",
                        "model/dense",
                        "Identity"),
                m.ops().stream().map(Op::name).toList());
        assertEquals(List.of("Identity"), m.outputs());

        Op.Conv2D conv = (Op.Conv2D) m.op("model/conv2d");
        assertEquals(
                new Op.Conv2D(
                        "model/conv2d",
                        "input_1",
                        "model/conv2d/kernel",
                        "model/conv2d/bias",
                        "model/conv2d",
                        1,
                        1,
                        Padding.SAME,
                        Activation.RELU),
                conv);
        assertEquals(Shape.of(3, 3, 3, 2), m.constant(conv.weight()).shape());
        assertArrayEquals(new float[] {0.5f, -1f, 2f}, m.constant(conv.bias()).data());

        Op.Add add = (Op.Add) m.op("model/add");
        assertEquals(Activation.RELU, add.activation());

        Op.DepthwiseConv2D dw = (Op.DepthwiseConv2D) m.op("model/depthwise_conv2d");
        assertEquals(
                new Op.DepthwiseConv2D(
                        "model/depthwise_conv2d",
                        "model/add",
                        "model/depthwise_conv2d/kernel",
                        null,
                        "model/depthwise_conv2d",
                        2,
                        2,
                        Padding.SAME,
                        1,
                        Activation.RELU6),
                dw);
        assertEquals(Shape.of(3, 3, 3), m.constant(dw.weight()).shape());

        Op.Pad pad = (Op.Pad) m.op("model/zero_padding2d");
        assertArrayEquals(new int[] {1, 0, 0}, pad.before());
        assertArrayEquals(new int[] {0, 1, 0}, pad.after());
        assertEquals(Shape.of(3, 3, 3), m.shape(pad.output()));

        Op.Pool max = (Op.Pool) m.op("model/max_pooling2d");
        assertEquals(
                new Op.Pool(
                        "model/max_pooling2d",
                        "model/zero_padding2d",
                        "model/max_pooling2d",
                        Op.PoolKind.MAX,
                        2,
                        2,
                        1,
                        1,
                        Padding.VALID,
                        Activation.NONE),
                max);
        Op.Pool avg = (Op.Pool) m.op("model/average_pooling2d");
        assertEquals(Op.PoolKind.AVG, avg.kind());
        assertEquals(Padding.SAME, avg.padding());

        // MEAN with keep_dims: the IR's Mean to [C], then a reshape back to TFLite's [1,1,C].
        assertInstanceOf(Op.Mean.class, m.op("model/gap/mean"));
        assertEquals(Shape.of(1, 1, 3), ((Op.Reshape) m.op("model/gap")).shape());
        assertEquals(Shape.of(3), ((Op.Reshape) m.op("model/flatten")).shape());

        Op.FullyConnected fc = (Op.FullyConnected) m.op("model/dense");
        assertEquals(Shape.of(4, 3), m.constant(fc.weight()).shape());
        assertArrayEquals(FC, m.constant(fc.weight()).data(), "RESHAPE of a constant is folded, values unchanged");
        assertInstanceOf(Op.Softmax.class, m.op("Identity"));
        assertEquals(Shape.of(4), m.shape("Identity"));
    }

    @Test
    void dequantizesInt8ConstantsPerChannelAndFoldsDequantize() throws Exception {
        Model m = format.read(tinyFile(), format.defaultOptions());
        float[] w = m.constant("model/conv2d/kernel").data();
        byte[] q = convQ();
        int perChannel = 3 * 3 * 2;
        for (int i = 0; i < q.length; i++) {
            int c = i / perChannel;
            assertEquals(CONV_SCALE[c] * (q[i] - CONV_ZERO[c]), w[i], 0f, "conv weight " + i);
        }
        float[] dw = m.constant("model/depthwise_conv2d/kernel").data();
        byte[] dq = dwQ();
        for (int i = 0; i < dq.length; i++) {
            assertEquals((float) (0.1f * (double) dq[i]), dw[i], 0f, "depthwise weight " + i);
        }
        assertEquals(
                List.of(
                        "model/conv2d/kernel",
                        "model/conv2d/bias",
                        "model/depthwise_conv2d/kernel",
                        "model/dense/kernel",
                        "model/dense/bias"),
                List.copyOf(m.constants().keySet()),
                "folded inputs (the int8 depthwise weight, the flat FC weight) are not kept");
    }

    @Test
    void tensorNamingKeepsTheConvertersNames() throws Exception {
        Model m = format.read(tinyFile(), new TfliteFormat.Options(TfliteFormat.LayerNames.TENSOR));
        assertEquals(
                "model/activation/Relu;model/conv2d/BiasAdd;model/conv2d_9/Conv2D;model/conv2d/Conv2D1",
                m.ops().getFirst().name());
    }

    @Test
    void layerNamesPreferTheBiasAddOfTheLayer() {
        assertEquals(
                "model/conv2d_5",
                LayerNames.derive(
                        "model/conv2d_5/BiasAdd;model/conv2d_5/Conv2D;model/conv2d_5/BiasAdd/ReadVariableOp/resource1",
                        BuiltinOperator.CONV_2D,
                        TfliteFormat.LayerNames.KERAS));
        assertEquals(
                "model/dense",
                LayerNames.derive(
                        "model/dense/MatMul;model/dense/BiasAdd",
                        BuiltinOperator.FULLY_CONNECTED,
                        TfliteFormat.LayerNames.KERAS));
        assertEquals("Identity", LayerNames.derive("Identity", BuiltinOperator.SOFTMAX, TfliteFormat.LayerNames.KERAS));
        // Markers ending in a digit, with and without the converter's uniquifying digits.
        assertEquals(
                "model/re_lu",
                LayerNames.derive("model/re_lu/Relu6", BuiltinOperator.RELU6, TfliteFormat.LayerNames.KERAS));
        assertEquals(
                "model/re_lu_1",
                LayerNames.derive("model/re_lu_1/Relu61", BuiltinOperator.RELU6, TfliteFormat.LayerNames.KERAS));
        assertEquals(
                "model/conv1d",
                LayerNames.derive("model/conv1d/Squeeze", BuiltinOperator.SQUEEZE, TfliteFormat.LayerNames.KERAS));
    }

    @Test
    void aFileThatIsNotTfliteSaysSo() throws Exception {
        Path f = Files.writeString(dir.resolve("notes.tflite"), "hello, not a model");
        var e = assertThrows(InvalidModelException.class, () -> format.read(f, format.defaultOptions()));
        assertEquals(
                f + " is not a TFLite model: bytes 4..7 hold 'o, n' where a TFLite flatbuffer has its identifier"
                        + " 'TFL3'",
                e.getMessage());
        Path tiny = Files.write(dir.resolve("short.tflite"), new byte[] {1, 2, 3});
        e = assertThrows(InvalidModelException.class, () -> format.read(tiny, format.defaultOptions()));
        assertTrue(e.getMessage().contains("it has 3 bytes, fewer than a flatbuffer header (8)"), e.getMessage());
        var missing = assertThrows(
                TinyPtqException.class, () -> format.read(dir.resolve("absent.tflite"), format.defaultOptions()));
        assertTrue(missing.getMessage().endsWith("absent.tflite does not exist"), missing.getMessage());
        // Over 2 GiB (a sparse file): refused by its size before a byte is read, not an OutOfMemoryError.
        Path huge = dir.resolve("huge.tflite");
        try (var sparse = new java.io.RandomAccessFile(huge.toFile(), "rw")) {
            sparse.setLength(3L << 30);
        }
        e = assertThrows(InvalidModelException.class, () -> format.read(huge, format.defaultOptions()));
        assertEquals(
                huge + " holds 3221225472 bytes; a TFLite flatbuffer holds at most 2147483647 (2 GiB), and tinyML"
                        + " models a few MiB",
                e.getMessage());
    }

    @Test
    void everyTruncationFailsAsATruncatedOrCorruptModel() throws Exception {
        byte[] full = Files.readAllBytes(tinyFile());
        for (int len = 8; len < full.length; len += 5) {
            Path f = Files.write(dir.resolve("cut.tflite"), Arrays.copyOf(full, len));
            int n = len;
            var e = assertThrows(
                    InvalidModelException.class,
                    () -> format.read(f, format.defaultOptions()),
                    "truncated to " + n + " bytes");
            assertTrue(
                    e.getMessage().contains("truncated or corrupt")
                            || e.getMessage().contains("is truncated"),
                    n + ": " + e.getMessage());
        }
    }

    @Test
    void corruptBytesGiveModelErrorsAndNothingElse() throws Exception {
        byte[] full = Files.readAllBytes(tinyFile());
        SplittableRandom r = new SplittableRandom(7);
        for (int trial = 0; trial < 300; trial++) {
            byte[] bad = full.clone();
            for (int k = 0; k < 3; k++) {
                bad[8 + r.nextInt(bad.length - 8)] = (byte) r.nextInt(256);
            }
            Path f = Files.write(dir.resolve("corrupt.tflite"), bad);
            try {
                format.read(f, format.defaultOptions());
            } catch (TinyPtqException expected) {
                // A clear model error (or a graph the IR rejects by name) is the contract.
            }
        }
    }

    @Test
    void hugeOffsetsAndLengthsAnywhereGiveModelErrorsWithoutAllocatingThem() throws Exception {
        byte[] full = Files.readAllBytes(tinyFile());
        for (int at = 8; at + 4 <= full.length; at += 4) {
            for (int value : new int[] {0x7ffffff0, -4}) {
                byte[] bad = full.clone();
                java.nio.ByteBuffer.wrap(bad)
                        .order(java.nio.ByteOrder.LITTLE_ENDIAN)
                        .putInt(at, value);
                Path f = Files.write(dir.resolve("huge.tflite"), bad);
                try {
                    format.read(f, format.defaultOptions());
                } catch (TinyPtqException expected) {
                    // Only model errors may come out: no OutOfMemoryError, NegativeArraySizeException, ...
                }
            }
        }
    }

    @Test
    void unsupportedOperatorIsNamedWithItsIndexAndTheSupportedSet() throws Exception {
        TfliteBuilder t = new TfliteBuilder();
        int x = t.activation("x", 1, 4);
        int y = t.activation("y", 1, 4);
        t.op(19, new int[] {x}, new int[] {y});
        int z = t.activation("z", 1, 4);
        t.op(41, new int[] {y, y}, new int[] {z});
        Path f = t.write(dir.resolve("sub.tflite"), new int[] {x}, new int[] {z});
        var e = assertThrows(InvalidModelException.class, () -> format.read(f, format.defaultOptions()));
        assertEquals(
                f + ": operator 1 is SUB (builtin code 41), which tinyptq does not import; supported operators:"
                        + " ADD, AVERAGE_POOL_2D, CONV_2D, DEPTHWISE_CONV_2D, EXPAND_DIMS, FULLY_CONNECTED, MAX_POOL_2D, MEAN,"
                        + " PAD, RELU, RELU6, RESHAPE, SOFTMAX, SQUEEZE, and DEQUANTIZE, QUANTIZE, RESHAPE, EXPAND_DIMS and"
                        + " SQUEEZE of constants (folded at import)",
                e.getMessage());

        TfliteBuilder c = new TfliteBuilder();
        int a = c.activation("a", 1, 4);
        int b = c.activation("b", 1, 4);
        c.custom("MyOp", new int[] {a}, new int[] {b});
        Path cf = c.write(dir.resolve("custom.tflite"), new int[] {a}, new int[] {b});
        e = assertThrows(InvalidModelException.class, () -> format.read(cf, format.defaultOptions()));
        assertTrue(
                e.getMessage().contains("operator 0 is CUSTOM operator 'MyOp', which tinyptq does not import"),
                e.getMessage());
    }

    @Test
    void quantizedActivationsDilationAndOtherActivationsAreRefused() throws Exception {
        TfliteBuilder q = new TfliteBuilder();
        int x = q.typedActivation("input_int8", TfliteBuilder.INT8, 1, 4);
        int y = q.typedActivation("y", TfliteBuilder.INT8, 1, 4);
        q.op(19, new int[] {x}, new int[] {y});
        Path qf = q.write(dir.resolve("int8.tflite"), new int[] {x}, new int[] {y});
        var e = assertThrows(InvalidModelException.class, () -> format.read(qf, format.defaultOptions()));
        assertTrue(
                e.getMessage().contains("is a fully-integer TFLite model (its input 'input_int8' is INT8)"),
                e.getMessage());

        TfliteBuilder d = new TfliteBuilder();
        int in = d.activation("in", 1, 5, 5, 1);
        int w = d.floats("w", new int[] {1, 3, 3, 1}, new float[9]);
        int out = d.activation("model/c/BiasAdd", 1, 1, 1, 1);
        d.op(3, new int[] {in, w, -1}, new int[] {out}, 1, TfliteBuilder.dilatedConv2d(2));
        Path df = d.write(dir.resolve("dilated.tflite"), new int[] {in}, new int[] {out});
        e = assertThrows(InvalidModelException.class, () -> format.read(df, format.defaultOptions()));
        assertEquals(
                df + ": operator 0 (CONV_2D, layer 'model/c'): dilation 2x2 is not supported; only 1x1",
                e.getMessage());

        TfliteBuilder h = new TfliteBuilder();
        int hi = h.activation("in", 1, 3);
        int hw = h.floats("w", new int[] {2, 3}, new float[6]);
        int ho = h.activation("fc", 1, 2);
        h.op(9, new int[] {hi, hw, -1}, new int[] {ho}, 8, TfliteBuilder.activationOnly(TANH));
        Path hf = h.write(dir.resolve("tanh.tflite"), new int[] {hi}, new int[] {ho});
        e = assertThrows(InvalidModelException.class, () -> format.read(hf, format.defaultOptions()));
        assertTrue(
                e.getMessage().endsWith("fused activation TANH is not supported; supported: NONE, RELU, RELU6"),
                e.getMessage());
    }

    @Test
    void aWeightBufferOfTheWrongSizeGivesExpectedAndActualBytes() throws Exception {
        TfliteBuilder t = new TfliteBuilder();
        int in = t.activation("in", 1, 3);
        int w = t.floats("w", new int[] {2, 3}, 1f, 2f, 3f, 4f, 5f);
        int out = t.activation("fc/BiasAdd", 1, 2);
        t.op(9, new int[] {in, w, -1}, new int[] {out}, 8, TfliteBuilder.activationOnly(0));
        Path f = t.write(dir.resolve("short-weights.tflite"), new int[] {in}, new int[] {out});
        var e = assertThrows(InvalidModelException.class, () -> format.read(f, format.defaultOptions()));
        assertEquals(
                f + ": operator 0 (FULLY_CONNECTED, layer 'fc'): constant 'w' of shape [2, 3] and type FLOAT32"
                        + " needs 24 bytes but its buffer holds 20",
                e.getMessage());
    }

    @Test
    void otherSchemaVersionsAreRefused() throws Exception {
        TfliteBuilder t = tiny().version(2);
        Path f = t.write(dir.resolve("v2.tflite"), new int[] {0}, new int[] {t.lastTensor()});
        var e = assertThrows(InvalidModelException.class, () -> format.read(f, format.defaultOptions()));
        assertEquals(f + ": TFLite schema version 2; tinyptq reads version 3", e.getMessage());
    }

    @Test
    void pluginContract() {
        assertEquals("tflite", format.name());
        assertEquals(List.of("tflite"), format.extensions());
        assertEquals(TfliteFormat.LayerNames.KERAS, format.defaultOptions().layerNames());
    }
}
