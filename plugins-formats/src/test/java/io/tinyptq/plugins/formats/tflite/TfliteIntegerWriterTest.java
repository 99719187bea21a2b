package io.tinyptq.plugins.formats.tflite;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyptq.api.integer.ElementType;
import io.tinyptq.api.integer.IntegerModel;
import io.tinyptq.api.integer.TensorQuant;
import io.tinyptq.api.model.Activation;
import io.tinyptq.api.model.Model;
import io.tinyptq.api.model.Op;
import io.tinyptq.api.model.Padding;
import io.tinyptq.api.model.Shape;
import io.tinyptq.api.model.Tensor;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Fully-integer export: what {@link TfliteFormat#writeInteger} writes reads back as the same integer model. */
class TfliteIntegerWriterTest {
    @TempDir
    Path dir;

    final TfliteFormat format = new TfliteFormat();

    /** Builds integer models named as the importer names them: activations by layer, constants layer/kernel, layer/bias. */
    static final class Builder {
        final Model.Builder graph;
        final Map<String, TensorQuant> quant = new LinkedHashMap<>();
        final Map<String, int[]> values = new LinkedHashMap<>();
        final Map<String, TensorQuant> boundary = new LinkedHashMap<>();

        Builder(String name) {
            graph = Model.builder(name);
        }

        Builder input(String name, Shape shape, TensorQuant q) {
            graph.input(name, shape);
            quant.put(name, q);
            return this;
        }

        Builder floatInput(String name, Shape shape, float scale, int zeroPoint) {
            boundary.put(name, TensorQuant.perTensor(ElementType.INT8, scale, zeroPoint));
            return input(name, shape, TensorQuant.float32());
        }

        Builder constant(String name, Shape shape, ElementType type, int axis, float[] scales, int[] q) {
            float[] deq = new float[q.length];
            int inner = 1;
            for (int i = axis + 1; i < shape.rank(); i++) {
                inner *= shape.dim(i);
            }
            for (int i = 0; i < q.length; i++) {
                deq[i] = scales[scales.length == 1 ? 0 : (i / inner) % shape.dim(axis)] * q[i];
            }
            graph.constant(name, new Tensor(shape, deq));
            quant.put(name, new TensorQuant(type, scales, new int[scales.length], scales.length == 1 ? 0 : axis));
            values.put(name, q);
            return this;
        }

        Builder op(Op op, float scale, int zeroPoint) {
            graph.op(op);
            quant.put(op.output(), TensorQuant.perTensor(ElementType.INT8, scale, zeroPoint));
            return this;
        }

        IntegerModel build(String output, boolean floatOutput) {
            graph.output(output);
            if (floatOutput) {
                boundary.put(output, quant.get(output));
                quant.put(output, TensorQuant.float32());
            }
            return new IntegerModel(graph.build(), quant, values, boundary);
        }
    }

    static int[] ints(int n, int mod, int offset) {
        int[] v = new int[n];
        for (int i = 0; i < n; i++) {
            v[i] = (i * 7 + 3) % mod + offset;
        }
        return v;
    }

    static float[] scales(int n, float base) {
        float[] s = new float[n];
        for (int i = 0; i < n; i++) {
            s[i] = base * (i + 1);
        }
        return s;
    }

    /**
     * int8 input [6,6,2] -> conv (INT4 per channel, no bias, RELU) -> depthwise (INT8 per channel on IR axis 2) ->
     * ADD of both -> average pool -> flatten -> fully connected (INT4 per tensor) -> softmax, int8 output; with
     * {@code floatIo} a float input and output around it.
     */
    static IntegerModel tiny(boolean floatIo) {
        Builder b = new Builder("tiny-int");
        if (floatIo) {
            b.floatInput("image", Shape.of(6, 6, 2), 0.05f, -3);
        } else {
            b.input("image", Shape.of(6, 6, 2), TensorQuant.perTensor(ElementType.INT8, 0.05f, -3));
        }
        b.constant("conv/kernel", Shape.of(4, 3, 3, 2), ElementType.INT4, 0, scales(4, 0.01f), ints(72, 16, -8))
                .op(
                        new Op.Conv2D(
                                "conv", "image", "conv/kernel", null, "conv", 1, 1, Padding.SAME, Activation.RELU),
                        0.04f,
                        -128)
                .constant("dw/kernel", Shape.of(3, 3, 4), ElementType.INT8, 2, scales(4, 0.02f), ints(36, 255, -127))
                .constant("dw/bias", Shape.of(4), ElementType.INT32, 0, scales(4, 0.0008f), ints(4, 1000, -500))
                .op(
                        new Op.DepthwiseConv2D(
                                "dw", "conv", "dw/kernel", "dw/bias", "dw", 1, 1, Padding.SAME, 1, Activation.RELU6),
                        0.03f,
                        -128)
                .op(new Op.Add("add", "conv", "dw", "add", Activation.NONE), 0.06f, -120)
                .op(
                        new Op.Pool("pool", "add", "pool", Op.PoolKind.AVG, 2, 2, 2, 2, Padding.VALID, Activation.NONE),
                        0.06f,
                        -120)
                .op(new Op.Reshape("flatten", "pool", "flatten", Shape.of(36)), 0.06f, -120)
                .constant("fc/kernel", Shape.of(5, 36), ElementType.INT4, 0, new float[] {0.02f}, ints(180, 15, -7))
                .constant("fc/bias", Shape.of(5), ElementType.INT32, 0, new float[] {0.0012f}, ints(5, 300, -150))
                .op(new Op.FullyConnected("fc", "flatten", "fc/kernel", "fc/bias", "fc", Activation.NONE), 0.1f, 4)
                .op(new Op.Softmax("softmax", "fc", "softmax"), 1f / 256, -128);
        return b.build("softmax", floatIo);
    }

    /** Per-tensor int8 weights only: a 1-D convolution and pool (reshapes around them in the file), dense. */
    static IntegerModel perTensor1d() {
        Builder b = new Builder("per-tensor-1d");
        b.input("window", Shape.of(10, 3), TensorQuant.perTensor(ElementType.INT8, 0.1f, 2));
        b.constant("c1/kernel", Shape.of(4, 3, 3), ElementType.INT8, 0, new float[] {0.03f}, ints(36, 255, -127))
                .constant("c1/bias", Shape.of(4), ElementType.INT32, 0, new float[] {0.003f}, ints(4, 100, -50))
                .op(
                        new Op.Conv1D("c1", "window", "c1/kernel", "c1/bias", "c1", 1, Padding.VALID, Activation.RELU),
                        0.05f,
                        -128)
                .op(
                        new Op.Pool("p1", "c1", "p1", Op.PoolKind.MAX, 1, 2, 1, 2, Padding.VALID, Activation.NONE),
                        0.05f,
                        -128)
                .op(new Op.Reshape("flat", "p1", "flat", Shape.of(16)), 0.05f, -128)
                .constant("d/kernel", Shape.of(3, 16), ElementType.INT8, 0, new float[] {0.01f}, ints(48, 255, -127))
                .op(new Op.FullyConnected("d", "flat", "d/kernel", null, "d", Activation.NONE), 0.2f, 0);
        return b.build("d", false);
    }

    IntegerModel roundTrip(IntegerModel m, String file) {
        Path path = dir.resolve(file);
        format.writeInteger(m, path, format.defaultOptions());
        assertTrue(format.isInteger(path, format.defaultOptions()));
        return format.readInteger(path, format.defaultOptions());
    }

    /** Same graph (names, ops, bit-identical dequantized constants), quantizations, stored integers and boundary. */
    static void assertSameIntegerModel(IntegerModel expected, IntegerModel actual) {
        TfliteWriterTest.assertSameStructure(expected.graph(), actual.graph());
        assertEquals(expected.graph().activationShapes(), actual.graph().activationShapes(), "activation shapes");
        assertEquals(expected.quant(), actual.quant(), "quantizations");
        assertEquals(expected.values().keySet(), actual.values().keySet(), "constants");
        for (String c : expected.values().keySet()) {
            assertArrayEquals(expected.values(c), actual.values(c), c);
        }
        assertEquals(expected.boundary(), actual.boundary(), "boundary");
    }

    @Test
    void perChannelInt4AndInt8WeightsReadBackEqual() {
        IntegerModel m = tiny(false);
        IntegerModel back = roundTrip(m, "tiny.tflite");
        assertSameIntegerModel(m, back);
        assertEquals(2, back.quant("dw/kernel").axis(), "depthwise axis back in the IR layout");
        assertEquals(ElementType.INT4, back.quant("conv/kernel").type());
        assertEquals(ElementType.INT4, back.quant("fc/kernel").type());
        assertTrue(back.boundary().isEmpty());
    }

    @Test
    void floatBoundaryBecomesQuantizeAndDequantize() throws Exception {
        IntegerModel m = tiny(true);
        IntegerModel back = roundTrip(m, "float-io.tflite");
        assertSameIntegerModel(m, back);
        assertEquals(TensorQuant.float32(), back.quant("image"));
        assertEquals(
                TensorQuant.perTensor(ElementType.INT8, 0.05f, -3),
                back.boundary().get("image"));
        assertEquals(
                TensorQuant.perTensor(ElementType.INT8, 1f / 256, -128),
                back.boundary().get("softmax"));
        TfliteSchema.Model file =
                TfliteSchema.Model.root(ByteBuffer.wrap(Files.readAllBytes(dir.resolve("float-io.tflite"))));
        TfliteSchema.SubGraph g = file.subgraph(0);
        assertEquals(TfliteSchema.FLOAT32, g.tensor(g.inputs()[0]).type());
        assertEquals(TfliteSchema.FLOAT32, g.tensor(g.outputs()[0]).type());
        Map<String, Integer> versions = versions(file);
        assertEquals(1, versions.get("QUANTIZE"));
        assertEquals(2, versions.get("DEQUANTIZE"));
    }

    @Test
    void perTensorWeightsOneDimensionalOpsAndAMissingBiasReadBackEqual() {
        IntegerModel m = perTensor1d();
        assertSameIntegerModel(m, roundTrip(m, "1d.tflite"));
    }

    @Test
    void importedFileWrittenBackReadsEqual() throws Exception {
        TfliteIntegerImportTest source = new TfliteIntegerImportTest();
        source.dir = dir;
        IntegerModel m = format.readInteger(source.boundaryFile(), format.defaultOptions());
        IntegerModel back = roundTrip(m, "again.tflite");
        // The file's INT4 depthwise weights come back as INT8 holding the same 4-bit values: TFLite's
        // DEPTHWISE_CONV_2D is written with INT8 filters.
        String dw = "model/depthwise_conv2d/kernel";
        TensorQuant q = m.quant(dw);
        assertEquals(new TensorQuant(ElementType.INT8, q.scale(), q.zeroPoint(), q.axis()), back.quant(dw));
        Map<String, TensorQuant> expected = new HashMap<>(m.quant());
        expected.put(dw, back.quant(dw));
        assertEquals(expected, new HashMap<>(back.quant()));
        IntegerModel relabeled = new IntegerModel(m.graph(), expected, m.values(), m.boundary());
        assertSameIntegerModel(relabeled, back);
    }

    @Test
    void int4WeightsArePackedAndOperatorVersionsAreTheIntegerOnes() throws Exception {
        IntegerModel m = tiny(false);
        Path path = dir.resolve("packed.tflite");
        format.writeInteger(m, path, format.defaultOptions());
        TfliteSchema.Model file = TfliteSchema.Model.root(ByteBuffer.wrap(Files.readAllBytes(path)));
        TfliteSchema.SubGraph g = file.subgraph(0);
        int[] conv = m.values("conv/kernel");
        boolean found = false;
        for (int t = 0; t < g.tensorCount(); t++) {
            TfliteSchema.Tensor tensor = g.tensor(t);
            if (tensor.name().equals("conv/kernel")) {
                found = true;
                assertEquals(TfliteSchema.INT4, tensor.type());
                ByteBuffer data = file.buffer((int) tensor.buffer()).data();
                assertEquals((conv.length + 1) / 2, data.remaining());
                byte first = data.get(data.position());
                assertEquals((conv[0] & 0xF) | ((conv[1] & 0xF) << 4), first & 0xFF, "low nibble first");
                assertArrayEquals(new int[] {4, 3, 3, 2}, tensor.shape());
                assertEquals(0, tensor.quantization().quantizedDimension());
            }
            if (tensor.name().equals("dw/kernel")) {
                assertEquals(3, tensor.quantization().quantizedDimension(), "IR axis 2 is dimension 3 of [1,kh,kw,C]");
                assertEquals(TfliteSchema.INT8, tensor.type());
            }
        }
        assertTrue(found);
        Map<String, Integer> versions = versions(file);
        assertEquals(7, versions.get("CONV_2D"));
        assertEquals(3, versions.get("DEPTHWISE_CONV_2D"));
        assertEquals(10, versions.get("FULLY_CONNECTED"));
        assertEquals(2, versions.get("ADD"));
        assertEquals(2, versions.get("AVERAGE_POOL_2D"));
        assertEquals(2, versions.get("SOFTMAX"));
        assertEquals(1, versions.get("RESHAPE"));
    }

    @Test
    void aFloatConstantInAnIntegerModelIsRefused() {
        IntegerModel m = tiny(false);
        Map<String, TensorQuant> quant = new LinkedHashMap<>(m.quant());
        quant.put("fc/bias", TensorQuant.float32());
        IntegerModel bad = new IntegerModel(m.graph(), quant, m.values(), m.boundary());
        var e = assertThrows(
                io.tinyptq.api.InvalidModelException.class,
                () -> format.writeInteger(bad, dir.resolve("bad.tflite"), format.defaultOptions()));
        assertTrue(e.getMessage().contains("fc/bias"), e.getMessage());
    }

    static Map<String, Integer> versions(TfliteSchema.Model file) {
        Map<String, Integer> v = new HashMap<>();
        for (int i = 0; i < file.operatorCodeCount(); i++) {
            TfliteSchema.OperatorCode c = file.operatorCode(i);
            v.put(BuiltinOperator.name(c.builtinCode()), c.version());
        }
        return v;
    }
}
