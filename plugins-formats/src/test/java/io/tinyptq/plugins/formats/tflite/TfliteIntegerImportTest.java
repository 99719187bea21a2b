package io.tinyptq.plugins.formats.tflite;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyptq.api.InvalidModelException;
import io.tinyptq.api.integer.ElementType;
import io.tinyptq.api.integer.IntegerModel;
import io.tinyptq.api.integer.TensorQuant;
import io.tinyptq.api.model.Op;
import io.tinyptq.api.model.Shape;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Fully-integer TFLite files built in code: what {@link TfliteFormat#readInteger} makes of them. */
class TfliteIntegerImportTest {
    static final int INT4 = 17;
    static final int UINT8 = 3;
    static final int SAME = 0;
    static final int RELU = 1;
    static final int RELU6 = 3;

    @TempDir
    Path dir;

    final TfliteFormat format = new TfliteFormat();

    static final float[] CONV_SCALE = {0.02f, 0.01f, 0.04f};
    static final float[] DW_SCALE = {0.5f, 0.25f, 0.125f};
    static final float FC_SCALE = 0.05f;

    static byte[] convQ() {
        byte[] q = new byte[3 * 3 * 3 * 2];
        for (int i = 0; i < q.length; i++) {
            q[i] = (byte) (i * 37 % 255 - 127);
        }
        return q;
    }

    /** The 27 signed 4-bit depthwise weights, -8..7. */
    static int[] dwValues() {
        int[] v = new int[27];
        for (int i = 0; i < v.length; i++) {
            v[i] = i % 16 - 8;
        }
        return v;
    }

    /** TFLite's INT4 packing: element 2i in the low nibble of byte i, element 2i+1 in its high nibble. */
    static byte[] pack4(int[] v) {
        byte[] b = new byte[(v.length + 1) / 2];
        for (int i = 0; i < v.length; i++) {
            b[i / 2] |= (byte) ((v[i] & 0xf) << (i % 2 == 0 ? 0 : 4));
        }
        return b;
    }

    static byte[] int32Bytes(int... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (int x : v) {
            b.putInt(x);
        }
        return b.array();
    }

    static byte[] fcQ() {
        byte[] q = new byte[4 * 12];
        for (int i = 0; i < q.length; i++) {
            q[i] = (byte) (i * 11 % 200 - 100);
        }
        return q;
    }

    /**
     * float input -> QUANTIZE -> conv (per-channel int8 weights, int32 bias) -> depthwise (per-channel INT4 weights)
     * -> reshape -> fully connected (per-tensor int8 weights) -> softmax -> DEQUANTIZE -> float output.
     */
    Path boundaryFile() throws Exception {
        TfliteBuilder t = new TfliteBuilder();
        int x = t.activation("serving_default_input:0", 1, 4, 4, 2);
        int xq = t.quantizedActivation("input_int8", TfliteBuilder.INT8, new int[] {1, 4, 4, 2}, 0.5f, -1);
        t.op(114, new int[] {x}, new int[] {xq});
        int convW = t.quantizedConstant(
                "model/conv2d/Conv2D",
                TfliteBuilder.INT8,
                new int[] {3, 3, 3, 2},
                convQ(),
                CONV_SCALE,
                new long[] {0, 0, 0},
                0);
        int convB = t.quantizedConstant(
                "model/conv2d/BiasAdd/ReadVariableOp",
                TfliteBuilder.INT32,
                new int[] {3},
                int32Bytes(100, -200, 3000),
                new float[] {0.01f, 0.005f, 0.02f},
                new long[] {0, 0, 0},
                0);
        int conv = t.quantizedActivation(
                "model/activation/Relu;model/conv2d/BiasAdd;model/conv2d/Conv2D1",
                TfliteBuilder.INT8,
                new int[] {1, 4, 4, 3},
                0.1f,
                -128);
        t.op(3, new int[] {xq, convW, convB}, new int[] {conv}, 1, TfliteBuilder.conv2d(SAME, 1, 1, RELU));
        int dwW = t.quantizedConstant(
                "model/depthwise_conv2d/depthwise",
                INT4,
                new int[] {1, 3, 3, 3},
                pack4(dwValues()),
                DW_SCALE,
                new long[] {0, 0, 0},
                3);
        int dwB = t.quantizedConstant(
                "model/depthwise_conv2d/BiasAdd/ReadVariableOp",
                TfliteBuilder.INT32,
                new int[] {3},
                int32Bytes(-5, 6, 7),
                new float[] {0.05f, 0.025f, 0.0125f},
                new long[] {0, 0, 0},
                0);
        int dw = t.quantizedActivation(
                "model/depthwise_conv2d/BiasAdd;model/depthwise_conv2d/depthwise",
                TfliteBuilder.INT8,
                new int[] {1, 2, 2, 3},
                0.2f,
                -128);
        t.op(4, new int[] {conv, dwW, dwB}, new int[] {dw}, 2, TfliteBuilder.depthwise(SAME, 2, 2, 1, RELU6));
        int flat = t.quantizedActivation("model/flatten/Reshape", TfliteBuilder.INT8, new int[] {1, 12}, 0.2f, -128);
        t.op(22, new int[] {dw}, new int[] {flat});
        int fcW = t.quantizedConstant(
                "model/dense/MatMul",
                TfliteBuilder.INT8,
                new int[] {4, 12},
                fcQ(),
                new float[] {FC_SCALE},
                new long[] {0},
                0);
        int fcB = t.quantizedConstant(
                "model/dense/BiasAdd/ReadVariableOp",
                TfliteBuilder.INT32,
                new int[] {4},
                int32Bytes(1, 2, -3, 4),
                new float[] {0.01f},
                new long[] {0},
                0);
        int fc = t.quantizedActivation(
                "model/dense/MatMul;model/dense/BiasAdd", TfliteBuilder.INT8, new int[] {1, 4}, 0.3f, 5);
        t.op(9, new int[] {flat, fcW, fcB}, new int[] {fc}, 8, TfliteBuilder.activationOnly(0));
        int sm = t.quantizedActivation("Identity_int8", TfliteBuilder.INT8, new int[] {1, 4}, 1f / 256, -128);
        t.op(25, new int[] {fc}, new int[] {sm}, 9, TfliteBuilder.softmax(1f));
        int y = t.activation("StatefulPartitionedCall:0", 1, 4);
        t.op(6, new int[] {sm}, new int[] {y});
        return t.write(dir.resolve("int8.tflite"), new int[] {x}, new int[] {y});
    }

    @Test
    void readsTheGraphAsTheFloatImporterBuildsIt() throws Exception {
        Path file = boundaryFile();
        assertTrue(format.isInteger(file, format.defaultOptions()));
        IntegerModel m = format.readInteger(file, format.defaultOptions());
        List<Op> ops = m.graph().ops();
        assertEquals(
                List.of("model/conv2d", "model/depthwise_conv2d", "model/flatten", "model/dense", "Identity_int8"),
                ops.stream().map(Op::name).toList());
        assertEquals(
                List.of("conv2d", "depthwise_conv2d", "reshape", "fully_connected", "softmax"),
                ops.stream().map(Op::type).toList());
        assertEquals(Shape.of(4, 4, 2), m.graph().shape("serving_default_input:0"));
        assertEquals(
                Shape.of(3, 3, 3),
                m.graph().constant("model/depthwise_conv2d/kernel").shape());
        assertEquals(List.of("Identity_int8"), m.graph().outputs());
    }

    @Test
    void foldsQuantizeAndDequantizeIntoFloatBoundaries() throws Exception {
        IntegerModel m = format.readInteger(boundaryFile(), format.defaultOptions());
        String in = "serving_default_input:0";
        assertEquals(TensorQuant.float32(), m.quant(in));
        assertEquals(
                TensorQuant.perTensor(ElementType.INT8, 0.5f, -1), m.boundary().get(in));
        assertEquals(TensorQuant.perTensor(ElementType.INT8, 0.5f, -1), m.integerQuant(in));
        assertEquals(TensorQuant.float32(), m.quant("Identity_int8"));
        assertEquals(TensorQuant.perTensor(ElementType.INT8, 1f / 256, -128), m.integerQuant("Identity_int8"));
        assertEquals(2, m.boundary().size());
        assertEquals(TensorQuant.perTensor(ElementType.INT8, 0.1f, -128), m.quant("model/conv2d"));
        assertEquals(TensorQuant.perTensor(ElementType.INT8, 0.3f, 5), m.quant("model/dense"));
    }

    @Test
    void perChannelInt8WeightsAndInt32Biases() throws Exception {
        IntegerModel m = format.readInteger(boundaryFile(), format.defaultOptions());
        String w = "model/conv2d/kernel";
        TensorQuant q = m.quant(w);
        assertEquals(ElementType.INT8, q.type());
        assertArrayEquals(CONV_SCALE, q.scale());
        assertEquals(0, q.axis());
        byte[] stored = convQ();
        int[] values = m.values(w);
        float[] real = m.graph().constant(w).data();
        for (int i = 0; i < stored.length; i++) {
            assertEquals(stored[i], values[i]);
            assertEquals((float) ((double) CONV_SCALE[i / 18] * stored[i]), real[i], "element " + i);
        }
        String b = "model/conv2d/bias";
        assertEquals(ElementType.INT32, m.quant(b).type());
        assertArrayEquals(new int[] {100, -200, 3000}, m.values(b));
        assertArrayEquals(new float[] {1f, -1f, 60f}, m.graph().constant(b).data(), 1e-6f);
    }

    @Test
    void perTensorFullyConnectedWeights() throws Exception {
        IntegerModel m = format.readInteger(boundaryFile(), format.defaultOptions());
        TensorQuant q = m.quant("model/dense/kernel");
        assertFalse(q.perChannel());
        assertEquals(TensorQuant.perTensor(ElementType.INT8, FC_SCALE, 0), q);
        byte[] stored = fcQ();
        for (int i = 0; i < stored.length; i++) {
            assertEquals(stored[i], m.values("model/dense/kernel")[i]);
        }
        assertArrayEquals(new int[] {1, 2, -3, 4}, m.values("model/dense/bias"));
    }

    @Test
    void int4WeightsAreUnpackedLowNibbleFirstWithTheChannelAxisOfTheIrLayout() throws Exception {
        IntegerModel m = format.readInteger(boundaryFile(), format.defaultOptions());
        String w = "model/depthwise_conv2d/kernel";
        TensorQuant q = m.quant(w);
        assertEquals(ElementType.INT4, q.type());
        assertEquals(2, q.axis(), "TFLite's dimension 3 of [1,3,3,3] is axis 2 of the IR's [3,3,3]");
        assertArrayEquals(dwValues(), m.values(w));
        float[] real = m.graph().constant(w).data();
        for (int i = 0; i < real.length; i++) {
            assertEquals(DW_SCALE[i % 3] * dwValues()[i], real[i], 1e-7f);
        }
    }

    @Test
    void unpacksInt4BytesAsTfliteDoes() {
        ByteBuffer b = ByteBuffer.wrap(new byte[] {0x21, (byte) 0xF7, 0x08});
        long[] q = TfliteImporter.int4s(b, 5);
        assertArrayEquals(new long[] {1, 2, 7, -1, -8}, q);
    }

    /** int8 input and output, no QUANTIZE / DEQUANTIZE: a per-tensor conv and a softmax. */
    Path int8IoFile(int inputType) throws Exception {
        TfliteBuilder t = new TfliteBuilder();
        int x = t.quantizedActivation("input_1", inputType, new int[] {1, 3, 3, 1}, 1f, -128);
        int w = t.quantizedConstant(
                "model/conv2d/Conv2D",
                TfliteBuilder.INT8,
                new int[] {2, 1, 1, 1},
                new byte[] {3, -4},
                new float[] {0.25f},
                new long[] {0},
                0);
        int b = t.quantizedConstant(
                "model/conv2d/BiasAdd/ReadVariableOp",
                TfliteBuilder.INT32,
                new int[] {2},
                int32Bytes(8, -8),
                new float[] {0.25f},
                new long[] {0},
                0);
        int y = t.quantizedActivation("model/conv2d/BiasAdd", TfliteBuilder.INT8, new int[] {1, 3, 3, 2}, 0.5f, 3);
        t.op(3, new int[] {x, w, b}, new int[] {y}, 1, TfliteBuilder.conv2d(SAME, 1, 1, 0));
        return t.write(dir.resolve("io.tflite"), new int[] {x}, new int[] {y});
    }

    @Test
    void int8InputsAndOutputsHaveNoBoundary() throws Exception {
        Path file = int8IoFile(TfliteBuilder.INT8);
        assertTrue(format.isInteger(file, format.defaultOptions()));
        IntegerModel m = format.readInteger(file, format.defaultOptions());
        assertTrue(m.boundary().isEmpty());
        assertEquals(TensorQuant.perTensor(ElementType.INT8, 1f, -128), m.quant("input_1"));
        assertEquals(TensorQuant.perTensor(ElementType.INT8, 0.5f, 3), m.quant("model/conv2d"));
        assertArrayEquals(new int[] {3, -4}, m.values("model/conv2d/kernel"));
        assertArrayEquals(
                new float[] {0.75f, -1f},
                m.graph().constant("model/conv2d/kernel").data());
    }

    @Test
    void floatReadOfAnIntegerFileSaysWhatItIsAndWhereItRuns() throws Exception {
        Path file = int8IoFile(TfliteBuilder.INT8);
        InvalidModelException e =
                assertThrows(InvalidModelException.class, () -> format.read(file, format.defaultOptions()));
        assertTrue(e.getMessage().contains("is a fully-integer TFLite model"), e.getMessage());
        assertTrue(e.getMessage().contains("integer runtime"), e.getMessage());
        InvalidModelException b =
                assertThrows(InvalidModelException.class, () -> format.read(boundaryFile(), format.defaultOptions()));
        assertTrue(b.getMessage().contains("is a fully-integer TFLite model"), b.getMessage());
    }

    @Test
    void floatFilesAreNotInteger() throws Exception {
        TfliteBuilder t = TfliteFormatTest.tiny();
        Path file = t.write(dir.resolve("float.tflite"), new int[] {0}, new int[] {t.lastTensor()});
        assertFalse(format.isInteger(file, format.defaultOptions()));
        InvalidModelException e =
                assertThrows(InvalidModelException.class, () -> format.readInteger(file, format.defaultOptions()));
        assertTrue(e.getMessage().contains("is a float TFLite model"), e.getMessage());
    }

    @Test
    void refusesUint8Activations() throws Exception {
        Path file = int8IoFile(UINT8);
        assertTrue(format.isInteger(file, format.defaultOptions()));
        InvalidModelException e =
                assertThrows(InvalidModelException.class, () -> format.readInteger(file, format.defaultOptions()));
        assertTrue(e.getMessage().contains("UINT8"), e.getMessage());
    }

    @Test
    void refusesRequantizationInsideTheGraph() throws Exception {
        TfliteBuilder t = new TfliteBuilder();
        int x = t.quantizedActivation("input_1", TfliteBuilder.INT8, new int[] {1, 4}, 1f, 0);
        int y = t.quantizedActivation("requantized", TfliteBuilder.INT8, new int[] {1, 4}, 0.5f, 0);
        t.op(114, new int[] {x}, new int[] {y});
        Path file = t.write(dir.resolve("requant.tflite"), new int[] {x}, new int[] {y});
        InvalidModelException e =
                assertThrows(InvalidModelException.class, () -> format.readInteger(file, format.defaultOptions()));
        assertTrue(e.getMessage().contains("QUANTIZE") && e.getMessage().contains("inside the graph"), e.getMessage());
    }
}
