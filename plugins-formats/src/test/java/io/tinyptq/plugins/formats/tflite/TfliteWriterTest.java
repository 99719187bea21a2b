package io.tinyptq.plugins.formats.tflite;

import static io.tinyptq.testkit.TinyModels.gaussian;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.tinyptq.api.InvalidModelException;
import io.tinyptq.api.TinyPtqException;
import io.tinyptq.api.model.Activation;
import io.tinyptq.api.model.Model;
import io.tinyptq.api.model.Op;
import io.tinyptq.api.model.Padding;
import io.tinyptq.api.model.Shape;
import io.tinyptq.api.model.Tensor;
import io.tinyptq.api.options.NoOptions;
import io.tinyptq.api.spi.ModelExecutor;
import io.tinyptq.testkit.ReferenceBackend;
import io.tinyptq.testkit.TinyModels;
import java.lang.reflect.RecordComponent;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Export to TFLite and import again: the same layers, bit-identical constants, the same outputs. */
class TfliteWriterTest {
    @TempDir
    Path dir;

    final TfliteFormat format = new TfliteFormat();

    /** A 1-D CNN shaped like the zoo's har-cnn, smaller: two Conv1D, a 1-D max pool, flatten, two dense layers. */
    static Model harCnnLike(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        return Model.builder("har-cnn-like")
                .input("window", Shape.of(32, 9))
                .constant("conv1.w", gaussian(r, 0.3, 16, 3, 9))
                .constant("conv1.b", gaussian(r, 0.1, 16))
                .constant("conv2.w", gaussian(r, 0.2, 16, 3, 16))
                .constant("conv2.b", gaussian(r, 0.1, 16))
                .constant("fc1.w", gaussian(r, 0.05, 24, 14 * 16))
                .constant("fc1.b", gaussian(r, 0.1, 24))
                .constant("fc2.w", gaussian(r, 0.2, 6, 24))
                .constant("fc2.b", gaussian(r, 0.1, 6))
                .op(new Op.Conv1D("conv1", "window", "conv1.w", "conv1.b", "h1", 1, Padding.VALID, Activation.RELU))
                .op(new Op.Conv1D("conv2", "h1", "conv2.w", "conv2.b", "h2", 1, Padding.VALID, Activation.RELU))
                .op(new Op.Pool("pool", "h2", "h3", Op.PoolKind.MAX, 1, 2, 1, 2, Padding.VALID, Activation.NONE))
                .op(new Op.Reshape("flatten", "h3", "f", Shape.of(14 * 16)))
                .op(new Op.FullyConnected("fc1", "f", "fc1.w", "fc1.b", "h4", Activation.RELU))
                .op(new Op.FullyConnected("fc2", "h4", "fc2.w", "fc2.b", "logits", Activation.NONE))
                .output("logits")
                .build();
    }

    /**
     * Every op type of the IR and its variants: 2-D and 1-D padding, convolutions with and without bias, a depthwise
     * multiplier of 2, standalone and fused RELU/RELU6, 2-D and 1-D pools of both kinds with SAME and VALID padding,
     * mean over 3-D and 2-D tensors, reshapes, a dense layer reading a 3-D tensor, residual adds, softmax. Layer
     * names use slashes and dots as real models do.
     */
    static Model everyOp(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        return Model.builder("every-op")
                .input("image", Shape.of(8, 8, 3))
                .constant("conv.w", gaussian(r, 0.4, 4, 3, 3, 3))
                .constant("dw.w", gaussian(r, 0.4, 3, 3, 8))
                .constant("dw.b", gaussian(r, 0.1, 8))
                .constant("c1.w", gaussian(r, 0.3, 6, 3, 8))
                .constant("c1.b", gaussian(r, 0.1, 6))
                .constant("c2.w", gaussian(r, 0.3, 4, 2, 6))
                .constant("fa.w", gaussian(r, 0.1, 4, 128))
                .constant("fa.b", gaussian(r, 0.1, 4))
                .constant("fb.w", gaussian(r, 0.3, 4, 8))
                .constant("fb.b", gaussian(r, 0.1, 4))
                .constant("fc.w", gaussian(r, 0.5, 5, 4))
                .op(new Op.Pad("model/pad2d", "image", "x1", new int[] {1, 0, 0}, new int[] {0, 1, 0}))
                .op(new Op.Conv2D("model/conv", "x1", "conv.w", null, "x2", 2, 2, Padding.VALID, Activation.NONE))
                .op(new Op.Act("model/relu", "x2", "x3", Activation.RELU))
                .op(new Op.DepthwiseConv2D(
                        "model/dw", "x3", "dw.w", "dw.b", "x4", 1, 1, Padding.SAME, 2, Activation.RELU))
                .op(new Op.Pool(
                        "model/avgpool", "x4", "x5", Op.PoolKind.AVG, 2, 2, 1, 1, Padding.SAME, Activation.RELU6))
                .op(new Op.Act("model/relu6", "x4", "x6", Activation.RELU6))
                .op(new Op.Add("model/add", "x5", "x6", "x7", Activation.RELU6))
                .op(new Op.Pool(
                        "model/maxpool", "x7", "x7m", Op.PoolKind.MAX, 2, 2, 1, 1, Padding.SAME, Activation.NONE))
                .op(new Op.Reshape("model/to1d", "x7m", "s1", Shape.of(16, 8)))
                .op(new Op.Pad("model/pad1d", "s1", "s2", new int[] {2, 0}, new int[] {1, 0}))
                .op(new Op.Conv1D("model/conv1d", "s2", "c1.w", "c1.b", "s3", 2, Padding.SAME, Activation.RELU))
                .op(new Op.Pool(
                        "model/maxpool1d", "s3", "s4", Op.PoolKind.MAX, 1, 2, 1, 2, Padding.VALID, Activation.NONE))
                .op(new Op.Conv1D("model/conv1d_nobias", "s4", "c2.w", null, "s5", 1, Padding.VALID, Activation.NONE))
                .op(new Op.Pool(
                        "model/avgpool1d", "s5", "s6", Op.PoolKind.AVG, 1, 3, 1, 1, Padding.SAME, Activation.RELU))
                .op(new Op.Mean("model/gap1d", "s6", "s7"))
                .op(new Op.FullyConnected("model/fc_a", "x7", "fa.w", "fa.b", "y1", Activation.RELU6))
                .op(new Op.Mean("model/gap2d", "x7", "g"))
                .op(new Op.FullyConnected("model/fc_b", "g", "fb.w", "fb.b", "y2", Activation.RELU))
                .op(new Op.Add("model/join", "y1", "y2", "y3", Activation.NONE))
                .op(new Op.Add("model/join.1d", "y3", "s7", "y4", Activation.RELU))
                .op(new Op.FullyConnected("model/fc", "y4", "fc.w", null, "logits", Activation.NONE))
                .op(new Op.Softmax("model/softmax", "logits", "probs"))
                .output("probs")
                .build();
    }

    record Case(String label, Model model) {
        @Override
        public String toString() {
            return label;
        }
    }

    static List<Case> models() {
        return List.of(
                new Case("mlp", TinyModels.mlp(1, 12, 16, 4)),
                new Case("convNet", TinyModels.convNet(2)),
                new Case("sequenceNet", TinyModels.sequenceNet(3)),
                new Case("unbalancedChain", TinyModels.unbalancedChain(4)),
                new Case("flattenNet", TinyModels.flattenNet(5)),
                new Case("resnet8", TinyModels.resnet8(6)),
                new Case("harCnnLike", harCnnLike(7)),
                new Case("everyOp", everyOp(8)));
    }

    Model roundTrip(Model m, String file) {
        Path f = dir.resolve(file);
        format.write(m, f, format.defaultOptions());
        return format.read(f, format.defaultOptions());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void exportThenImportGivesTheSameLayersConstantsAndOutputs(Case c) throws Exception {
        Model back = roundTrip(c.model(), c.label() + ".tflite");
        assertSameStructure(c.model(), back);
        float[] x = TinyModels.uniform(11, 4, single(c.model().inputs().values()), -1f, 1f);
        float[] expected = forward(c.model(), x, 4);
        float[] actual = forward(back, x, 4);
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], 1e-6, c.label() + " output " + i);
        }
    }

    /**
     * IR op types that are folded away before export rather than written (by simple class name): a batch
     * normalization folds into the preceding convolution.
     */
    static final java.util.Set<String> FOLDED_BEFORE_EXPORT = java.util.Set.of("BatchNorm");

    @Test
    void everyIrOpTypeIsCoveredByTheRoundTrip() {
        List<Class<?>> covered = everyOp(0).ops().stream()
                .<Class<?>>map(Object::getClass)
                .distinct()
                .toList();
        for (Class<?> type : Op.class.getPermittedSubclasses()) {
            if (type.isRecord() && !FOLDED_BEFORE_EXPORT.contains(type.getSimpleName())) {
                assertTrue(covered.contains(type), type.getSimpleName() + " is missing from everyOp()");
            }
        }
    }

    @Test
    void theFileIsAStandardTfliteFlatbuffer() throws Exception {
        Path f = dir.resolve("every.tflite");
        format.write(everyOp(1), f, format.defaultOptions());
        byte[] bytes = Files.readAllBytes(f);
        assertEquals("TFL3", new String(bytes, 4, 4, java.nio.charset.StandardCharsets.ISO_8859_1));
        TfliteSchema.Model m = TfliteSchema.Model.root(ByteBuffer.wrap(bytes));
        assertEquals(3, m.version());
        assertEquals(1, m.subgraphCount());
        // Buffer 0 is the empty sentinel; every constant buffer starts on a 16-byte boundary.
        ByteBuffer b0 = m.buffer(0).data();
        assertTrue(b0 == null || b0.remaining() == 0);
        for (int i = 1; i < m.bufferCount(); i++) {
            ByteBuffer data = m.buffer(i).data();
            assertNotNull(data, "buffer " + i);
            assertEquals(0, data.position() % 16, "buffer " + i + " alignment");
        }
        List<String> codes = new ArrayList<>();
        for (int i = 0; i < m.operatorCodeCount(); i++) {
            TfliteSchema.OperatorCode code = m.operatorCode(i);
            // Both fields default to 0 (ADD) in the schema.
            int builtin = code.int32(3, 0);
            assertEquals(Math.min(builtin, 127), code.int8(0, 0), "deprecated_builtin_code of " + builtin);
            codes.add(BuiltinOperator.name(builtin));
        }
        assertEquals(
                List.of(
                        "PAD",
                        "CONV_2D",
                        "RELU",
                        "DEPTHWISE_CONV_2D",
                        "AVERAGE_POOL_2D",
                        "RELU6",
                        "ADD",
                        "MAX_POOL_2D",
                        "RESHAPE",
                        "MEAN",
                        "FULLY_CONNECTED",
                        "SOFTMAX"),
                codes);
        TfliteSchema.SubGraph g = m.subgraph(0);
        for (int i = 0; i < g.tensorCount(); i++) {
            TfliteSchema.Tensor t = g.tensor(i);
            if (t.buffer() == 0) {
                assertEquals(TfliteSchema.FLOAT32, t.type(), t.name());
                assertEquals(1, t.shape()[0], t.name() + " batch dimension");
            }
        }
        // TFLite's float convolution kernels require a bias: layers without one get an all-zero <layer>/no_bias.
        for (int k = 0; k < g.operatorCount(); k++) {
            TfliteSchema.Operator op = g.operator(k);
            int code = m.operatorCode((int) op.opcodeIndex()).builtinCode();
            if (code == BuiltinOperator.CONV_2D || code == BuiltinOperator.DEPTHWISE_CONV_2D) {
                assertEquals(3, op.inputs().length, "operator " + k);
                assertTrue(op.inputs()[2] >= 0, "operator " + k);
            }
        }
        TfliteSchema.Tensor noBias = g.tensor(g.operator(1).inputs()[2]);
        assertEquals("model/conv/no_bias", noBias.name());
        assertArrayEquals(new byte[16], bytes(m.buffer((int) noBias.buffer()).data()));
        assertEquals("image", g.tensor(g.inputs()[0]).name());
        assertArrayEquals(new int[] {1, 8, 8, 3}, g.tensor(g.inputs()[0]).shape());
        assertArrayEquals(new int[] {1, 5}, g.tensor(g.outputs()[0]).shape());
    }

    @Test
    void conv1dIsWrittenAsReshapeConv2dReshapeWithAOneRowKernel() throws Exception {
        Model m = harCnnLike(3);
        Path f = dir.resolve("har.tflite");
        format.write(m, f, format.defaultOptions());
        TfliteSchema.Model file = TfliteSchema.Model.root(ByteBuffer.wrap(Files.readAllBytes(f)));
        TfliteSchema.SubGraph g = file.subgraph(0);
        List<String> ops = new ArrayList<>();
        for (int k = 0; k < g.operatorCount(); k++) {
            ops.add(BuiltinOperator.name(
                    file.operatorCode((int) g.operator(k).opcodeIndex()).builtinCode()));
        }
        assertEquals(
                List.of(
                        "RESHAPE",
                        "CONV_2D",
                        "RESHAPE",
                        "RESHAPE",
                        "CONV_2D",
                        "RESHAPE",
                        "RESHAPE",
                        "MAX_POOL_2D",
                        "RESHAPE",
                        "RESHAPE",
                        "FULLY_CONNECTED",
                        "FULLY_CONNECTED"),
                ops);
        TfliteSchema.Operator conv = g.operator(1);
        assertArrayEquals(
                new int[] {1, 32, 9}, g.tensor(g.operator(0).inputs()[0]).shape());
        assertArrayEquals(new int[] {1, 1, 32, 9}, g.tensor(conv.inputs()[0]).shape());
        assertArrayEquals(new int[] {16, 1, 3, 9}, g.tensor(conv.inputs()[1]).shape());
        assertArrayEquals(new int[] {1, 1, 30, 16}, g.tensor(conv.outputs()[0]).shape());
        assertArrayEquals(
                new int[] {1, 30, 16}, g.tensor(g.operator(2).outputs()[0]).shape());
        TfliteSchema.Pool2DOptions pool = g.operator(7).options(TfliteSchema.Pool2DOptions::new);
        assertEquals(1, pool.filterHeight());
        assertEquals(2, pool.filterWidth());
        assertEquals(1, pool.strideH());
        assertEquals(2, pool.strideW());
    }

    @Test
    void theConvertersExpandDimsAndSqueezeAroundAOneRowConvImportAsConv1D() throws Exception {
        TfliteBuilder t = new TfliteBuilder();
        int x = t.activation("serving_default_input:0", 1, 6, 2);
        int axis = t.int32s("model/conv1d/conv1d/ExpandDims/dim", new int[] {}, -3);
        int rows = t.activation("model/conv1d/conv1d/ExpandDims", 1, 1, 6, 2);
        t.op(BuiltinOperator.EXPAND_DIMS, new int[] {x, axis}, new int[] {rows});
        float[] w = {1, 2, 3, 4, 5, 6, -1, -2, -3, -4, -5, -6};
        int weight = t.floats("model/conv1d/conv1d/ExpandDims_1", new int[] {2, 1, 3, 2}, w);
        int bias = t.floats("model/conv1d/BiasAdd/ReadVariableOp", new int[] {2}, 0.5f, -0.5f);
        int conv = t.activation("model/conv1d/BiasAdd;model/conv1d/conv1d/Squeeze;model/conv1d/conv1d", 1, 1, 4, 2);
        t.op(
                BuiltinOperator.CONV_2D,
                new int[] {rows, weight, bias},
                new int[] {conv},
                1,
                TfliteBuilder.conv2d(1, 1, 1, 1));
        int squeezed = t.activation("model/conv1d/Relu;model/conv1d/BiasAdd", 1, 4, 2);
        t.op(BuiltinOperator.SQUEEZE, new int[] {conv}, new int[] {squeezed});
        int flatShape = t.int32s("model/flatten/Const", new int[] {2}, -1, 8);
        int flat = t.activation("model/flatten/Reshape", 1, 8);
        t.op(BuiltinOperator.RESHAPE, new int[] {squeezed, flatShape}, new int[] {flat});
        Path f = t.write(dir.resolve("conv1d.tflite"), new int[] {x}, new int[] {flat});

        Model m = format.read(f, format.defaultOptions());
        assertEquals(
                List.of("conv1d", "reshape"), m.ops().stream().map(Op::type).toList());
        Op.Conv1D c = assertInstanceOf(Op.Conv1D.class, m.ops().get(0));
        assertEquals("model/conv1d", c.name());
        assertEquals(Shape.of(2, 3, 2), m.constant(c.weight()).shape());
        assertArrayEquals(w, m.constant(c.weight()).data());
        assertEquals(Activation.RELU, c.activation());
        assertEquals(Padding.VALID, c.padding());
        assertEquals(Shape.of(4, 2), m.shape(c.output()));
    }

    @Test
    void aOneRowConvWhoseRowsTensorHasAnotherReaderStaysTwoDimensional() throws Exception {
        TfliteBuilder t = new TfliteBuilder();
        int x = t.activation("x", 1, 4, 2);
        int shape = t.int32s("shape", new int[] {4}, 1, 1, 4, 2);
        int rows = t.activation("rows/Reshape", 1, 1, 4, 2);
        t.op(BuiltinOperator.RESHAPE, new int[] {x, shape}, new int[] {rows});
        int weight = t.floats("w", new int[] {2, 1, 1, 2}, 1, 2, 3, 4);
        int conv = t.activation("conv/Conv2D", 1, 1, 4, 2);
        t.op(BuiltinOperator.CONV_2D, new int[] {rows, weight}, new int[] {conv}, 1, TfliteBuilder.conv2d(1, 1, 1, 0));
        int back = t.activation("back/Reshape", 1, 4, 2);
        t.op(BuiltinOperator.RESHAPE, new int[] {conv}, new int[] {back});
        int sum = t.activation("sum/add", 1, 1, 4, 2);
        t.op(BuiltinOperator.ADD, new int[] {rows, conv}, new int[] {sum});
        Path f = t.write(dir.resolve("shared.tflite"), new int[] {x}, new int[] {back, sum});
        Model m = format.read(f, format.defaultOptions());
        assertEquals(
                List.of("reshape", "conv2d", "reshape", "add"),
                m.ops().stream().map(Op::type).toList());
    }

    /**
     * Explicit paddings: those that pad as SAME or VALID are written so (also a SAME that is not the
     * {@link Padding#SAME} instance, as a stored model reads back); others become a PAD layer {@code <layer>/pad}
     * before a VALID convolution, which computes the same.
     */
    @Test
    void explicitPaddingIsWrittenAsSameValidOrAPadBeforeAValidConvolution() throws Exception {
        SplittableRandom r = new SplittableRandom(5);
        Padding same = new Padding(Padding.Kind.SAME, 0, 0, 0, 0);
        Model m = Model.builder("explicit")
                .input("x", Shape.of(6, 6, 2))
                .constant("a.w", gaussian(r, 0.4, 3, 3, 3, 2))
                .constant("b.w", gaussian(r, 0.4, 3, 3, 3))
                .constant("c.w", gaussian(r, 0.4, 4, 3, 3, 3))
                .constant("d.w", gaussian(r, 0.4, 2, 3, 4))
                .constant("e.w", gaussian(r, 0.4, 3, 3, 2))
                .op(new Op.Conv2D("a", "x", "a.w", null, "ya", 1, 1, Padding.explicit(1, 1, 1, 1), Activation.RELU))
                .op(new Op.DepthwiseConv2D(
                        "b", "ya", "b.w", null, "yb", 2, 2, Padding.explicit(1, 0, 1, 0), 1, Activation.NONE))
                .op(new Op.Conv2D("c", "yb", "c.w", null, "yc", 1, 1, same, Activation.NONE))
                .op(new Op.Pool(
                        "p", "yc", "yp", Op.PoolKind.MAX, 2, 2, 2, 2, Padding.explicit(0, 1, 0, 1), Activation.NONE))
                .op(new Op.Reshape("r", "yp", "yr", Shape.of(4, 4)))
                .op(new Op.Conv1D("d", "yr", "d.w", null, "yd", 1, Padding.explicit(0, 0, 2, 0), Activation.NONE))
                .op(new Op.Conv1D("e", "yd", "e.w", null, "ye", 1, Padding.explicit(0, 0, 0, 0), Activation.NONE))
                .output("ye")
                .build();
        Model back = roundTrip(m, "explicit.tflite");
        assertEquals(
                List.of("a", "b/pad", "b", "c", "p", "r", "d/pad", "d", "e"),
                back.ops().stream().map(Op::name).toList());
        assertEquals(
                List.of(
                        "conv2d",
                        "pad",
                        "depthwise_conv2d",
                        "conv2d",
                        "max_pool",
                        "reshape",
                        "pad",
                        "conv1d",
                        "conv1d"),
                back.ops().stream().map(Op::type).toList());
        assertEquals(Padding.SAME, ((Op.Conv2D) back.op("a")).padding());
        assertEquals(Padding.VALID, ((Op.DepthwiseConv2D) back.op("b")).padding());
        assertEquals(Padding.SAME, ((Op.Conv2D) back.op("c")).padding());
        assertEquals(Padding.SAME, ((Op.Pool) back.op("p")).padding());
        assertEquals(Padding.VALID, ((Op.Conv1D) back.op("e")).padding());
        float[] x = TinyModels.uniform(2, 3, Shape.of(6, 6, 2), -1f, 1f);
        float[] expected = forward(m, x, 3);
        float[] actual = forward(back, x, 3);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], 1e-6, "output " + i);
        }

        Model pool = Model.builder("m")
                .input("x", Shape.of(4, 4, 1))
                .op(new Op.Pool(
                        "pool", "x", "y", Op.PoolKind.AVG, 2, 2, 1, 1, Padding.explicit(1, 1, 1, 1), Activation.NONE))
                .output("y")
                .build();
        var e = assertThrows(
                InvalidModelException.class,
                () -> format.write(pool, dir.resolve("pool.tflite"), format.defaultOptions()));
        assertTrue(
                e.getMessage()
                        .startsWith("layer 'pool' (avg_pool) cannot be written to TFLite: explicit padding"
                                + " EXPLICIT(1,1,1,1) on input x[4,4,1] pads neither as TFLite's SAME nor as VALID;"),
                e.getMessage());
    }

    @Test
    void anOpTfliteCannotExpressFailsNamingTheLayerAndItsType() {
        Model pool = Model.builder("m")
                .input("x", Shape.of(8, 2))
                .op(new Op.Pool("features/pool", "x", "y", Op.PoolKind.MAX, 2, 2, 2, 2, Padding.VALID, Activation.NONE))
                .output("y")
                .build();
        var e = assertThrows(
                InvalidModelException.class,
                () -> format.write(pool, dir.resolve("pool.tflite"), format.defaultOptions()));
        assertTrue(
                e.getMessage()
                        .startsWith("layer 'features/pool' (max_pool) cannot be written to TFLite: a pool"
                                + " over the [W,C] tensor x[8,2] needs a window and stride of 1 row, found kh 2 and stride_h 2;"
                                + " the tflite writer writes conv2d, "),
                e.getMessage());
        assertFalse(Files.exists(dir.resolve("pool.tflite")));

        Model crop = Model.builder("m")
                .input("x", Shape.of(8, 2))
                .op(new Op.Pad("crop", "x", "y", new int[] {-1, 0}, new int[] {0, 0}))
                .output("y")
                .build();
        e = assertThrows(
                InvalidModelException.class,
                () -> format.write(crop, dir.resolve("crop.tflite"), format.defaultOptions()));
        assertTrue(
                e.getMessage()
                        .startsWith(
                                "layer 'crop' (pad) cannot be written to TFLite: negative padding -1/0 on" + " axis 0"),
                e.getMessage());
    }

    @Test
    void batchNormFoldsIntoTheLayerBeforeItOnExport() throws Exception {
        Model m = io.tinyptq.testkit.TinyModels.batchNormSequence(4);
        Model back = roundTrip(m, "bn.tflite");
        assertEquals(
                List.of("conv1d", "max_pool", "reshape", "fully_connected"),
                back.ops().stream().map(Op::type).toList());
        float[] x = io.tinyptq.testkit.TinyModels.uniform(3, 4, m.shape("signal"), -2f, 2f);
        float[] expected = forward(m, x, 4);
        float[] actual = forward(back, x, 4);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], 1e-5 * Math.max(1, Math.abs(expected[i])), "output " + i);
        }
        // A BatchNorm after a residual add has no layer to fold into.
        Model residual = io.tinyptq.testkit.TinyModels.batchNormNet(4);
        var e = assertThrows(
                InvalidModelException.class,
                () -> format.write(residual, dir.resolve("residual.tflite"), format.defaultOptions()));
        assertTrue(
                e.getMessage()
                        .startsWith("layer 'bn3' (batch_norm) cannot be written to TFLite: TFLite has no"
                                + " BatchNorm operator"),
                e.getMessage());
    }

    @Test
    void aStandaloneIdentityActivationIsWrittenAsAnIdentityReshape() {
        Model m = Model.builder("m")
                .input("x", Shape.of(3))
                .op(new Op.Act("identity", "x", "y", Activation.NONE))
                .output("y")
                .build();
        Model back = roundTrip(m, "identity.tflite");
        Op.Reshape r = assertInstanceOf(Op.Reshape.class, back.ops().get(0));
        assertEquals("identity", r.name());
        assertEquals(Shape.of(3), r.shape());
    }

    @Test
    void writingWhereNoFileCanBeCreatedFailsNamingThePath() throws Exception {
        Path notADir = Files.writeString(dir.resolve("plain.txt"), "x");
        Path target = notADir.resolve("model.tflite");
        var e = assertThrows(
                TinyPtqException.class,
                () -> format.write(TinyModels.mlp(0, 4, 4, 2), target, format.defaultOptions()));
        assertTrue(e.getMessage().startsWith("cannot write model file " + target + ": "), e.getMessage());
        assertFalse(e instanceof InvalidModelException);
    }

    @Test
    void missingParentFoldersAreCreated() {
        Path f = dir.resolve("a/b/mlp.tflite");
        format.write(TinyModels.mlp(0, 4, 4, 2), f, format.defaultOptions());
        assertEquals(
                List.of("fc1", "fc2"),
                format.read(f, format.defaultOptions()).ops().stream()
                        .map(Op::name)
                        .toList());
    }

    // ---- helpers ----

    static byte[] bytes(ByteBuffer b) {
        byte[] r = new byte[b.remaining()];
        b.duplicate().get(r);
        return r;
    }

    static Shape single(java.util.Collection<Shape> shapes) {
        assertEquals(1, shapes.size());
        return shapes.iterator().next();
    }

    static float[] forward(Model m, float[] x, int batch) throws Exception {
        try (ModelExecutor e = new ReferenceBackend().compile(m, null, batch, NoOptions.INSTANCE)) {
            return e.forward(x, batch, ModelExecutor.ActivationListener.NONE);
        }
    }

    /**
     * Same inputs, and op by op: the same op type and layer name, the same attributes, constants with the same shape
     * and bit-identical values, and activations read from the same layers (tensor names may differ: the importer
     * names activations after their layer and constants {@code <layer>/kernel}, {@code <layer>/bias}).
     */
    static void assertSameStructure(Model expected, Model actual) {
        assertEquals(expected.inputs(), actual.inputs(), "inputs");
        assertEquals(
                expected.ops().stream().map(Op::name).toList(),
                actual.ops().stream().map(Op::name).toList(),
                "layer names");
        assertEquals(
                expected.ops().stream().map(Op::type).toList(),
                actual.ops().stream().map(Op::type).toList(),
                "op types");
        for (int i = 0; i < expected.ops().size(); i++) {
            Op a = expected.ops().get(i);
            Op b = actual.ops().get(i);
            assertEquals(a.getClass(), b.getClass(), a.name());
            for (RecordComponent rc : a.getClass().getRecordComponents()) {
                Object va = get(rc, a);
                Object vb = get(rc, b);
                String where = "layer '" + a.name() + "' " + rc.getName();
                if (rc.getName().equals("name")) {
                    assertEquals(va, vb, where);
                } else if (rc.getType() == String.class) {
                    assertSameTensor(expected, (String) va, actual, (String) vb, where);
                } else {
                    assertTrue(Objects.deepEquals(va, vb), where + ": " + va + " vs " + vb);
                }
            }
        }
        assertEquals(expected.outputs().size(), actual.outputs().size());
        for (int i = 0; i < expected.outputs().size(); i++) {
            assertSameTensor(
                    expected,
                    expected.outputs().get(i),
                    actual,
                    actual.outputs().get(i),
                    "output " + i);
        }
    }

    private static Object get(RecordComponent rc, Op op) {
        try {
            return rc.getAccessor().invoke(op);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    private static void assertSameTensor(Model ma, String a, Model mb, String b, String where) {
        if (a == null || b == null) {
            assertNull(a, where);
            assertNull(b, where);
            return;
        }
        if (ma.constants().containsKey(a)) {
            assertTrue(mb.constants().containsKey(b), where + ": " + b + " is not a constant");
            Tensor ta = ma.constant(a);
            Tensor tb = mb.constant(b);
            assertEquals(ta.shape(), tb.shape(), where + " shape");
            int[] bitsA = new int[ta.data().length];
            int[] bitsB = new int[tb.data().length];
            for (int i = 0; i < bitsA.length; i++) {
                bitsA[i] = Float.floatToRawIntBits(ta.data()[i]);
                bitsB[i] = Float.floatToRawIntBits(tb.data()[i]);
            }
            assertArrayEquals(bitsA, bitsB, where + " values");
            return;
        }
        assertEquals(source(ma, a), source(mb, b), where);
        assertEquals(ma.shape(a), mb.shape(b), where + " shape");
    }

    /** Where an activation comes from: a graph input by name, or the layer that writes it. */
    private static String source(Model m, String tensor) {
        if (m.inputs().containsKey(tensor)) {
            return "input " + tensor;
        }
        return "output of " + m.producer(tensor).map(Op::name).orElseGet(() -> fail("no producer of " + tensor));
    }
}
