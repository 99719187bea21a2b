package io.tinyptq.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
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
import io.tinyptq.api.spi.IntegerRuntime;
import io.tinyptq.api.spi.ModelExecutor;
import io.tinyptq.api.spi.ModelFormat;
import io.tinyptq.api.spi.PluginKind;
import io.tinyptq.kernel.Kernel;
import io.tinyptq.kernel.eval.Evaluator;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A fully-integer model written by the {@code tflite} format and read back runs through the {@code reference}
 * integer runtime to exactly the outputs of the model it was written from: INT4 and per-channel INT8 weights, a
 * convolution without bias, ADD, pool, reshape, dense, softmax; int8 or float inputs and outputs.
 */
class IntegerTfliteRoundTripTest {
    @TempDir
    Path dir;

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

    static IntegerModel model(boolean floatIo) {
        Model.Builder g = Model.builder("round-trip").input("image", Shape.of(6, 6, 2));
        Map<String, TensorQuant> quant = new LinkedHashMap<>();
        Map<String, int[]> values = new LinkedHashMap<>();
        Map<String, TensorQuant> boundary = new LinkedHashMap<>();
        TensorQuant in = TensorQuant.perTensor(ElementType.INT8, 0.05f, -3);
        if (floatIo) {
            quant.put("image", TensorQuant.float32());
            boundary.put("image", in);
        } else {
            quant.put("image", in);
        }
        constant(
                g,
                quant,
                values,
                "conv/kernel",
                Shape.of(4, 3, 3, 2),
                ElementType.INT4,
                0,
                scales(4, 0.01f),
                ints(72, 16, -8));
        constant(
                g,
                quant,
                values,
                "dw/kernel",
                Shape.of(3, 3, 4),
                ElementType.INT8,
                2,
                scales(4, 0.02f),
                ints(36, 255, -127));
        constant(
                g,
                quant,
                values,
                "dw/bias",
                Shape.of(4),
                ElementType.INT32,
                0,
                scales(4, 0.0008f),
                ints(4, 1000, -500));
        constant(
                g,
                quant,
                values,
                "fc/kernel",
                Shape.of(5, 36),
                ElementType.INT4,
                0,
                new float[] {0.02f},
                ints(180, 15, -7));
        constant(
                g,
                quant,
                values,
                "fc/bias",
                Shape.of(5),
                ElementType.INT32,
                0,
                new float[] {0.0012f},
                ints(5, 300, -150));
        op(
                g,
                quant,
                new Op.Conv2D("conv", "image", "conv/kernel", null, "conv", 1, 1, Padding.SAME, Activation.RELU),
                0.04f,
                -128);
        op(
                g,
                quant,
                new Op.DepthwiseConv2D(
                        "dw", "conv", "dw/kernel", "dw/bias", "dw", 1, 1, Padding.SAME, 1, Activation.RELU6),
                0.03f,
                -128);
        op(g, quant, new Op.Add("add", "conv", "dw", "add", Activation.NONE), 0.06f, -120);
        op(
                g,
                quant,
                new Op.Pool("pool", "add", "pool", Op.PoolKind.AVG, 2, 2, 2, 2, Padding.VALID, Activation.NONE),
                0.06f,
                -120);
        op(g, quant, new Op.Reshape("flatten", "pool", "flatten", Shape.of(36)), 0.06f, -120);
        op(g, quant, new Op.FullyConnected("fc", "flatten", "fc/kernel", "fc/bias", "fc", Activation.NONE), 0.1f, 4);
        op(g, quant, new Op.Softmax("softmax", "fc", "softmax"), 1f / 256, -128);
        g.output("softmax");
        if (floatIo) {
            boundary.put("softmax", quant.get("softmax"));
            quant.put("softmax", TensorQuant.float32());
        }
        return new IntegerModel(g.build(), quant, values, boundary);
    }

    static void constant(
            Model.Builder g,
            Map<String, TensorQuant> quant,
            Map<String, int[]> values,
            String name,
            Shape shape,
            ElementType type,
            int axis,
            float[] scales,
            int[] q) {
        float[] deq = new float[q.length];
        int inner = 1;
        for (int i = axis + 1; i < shape.rank(); i++) {
            inner *= shape.dim(i);
        }
        for (int i = 0; i < q.length; i++) {
            deq[i] = scales[scales.length == 1 ? 0 : (i / inner) % shape.dim(axis)] * q[i];
        }
        g.constant(name, new Tensor(shape, deq));
        quant.put(name, new TensorQuant(type, scales, new int[scales.length], scales.length == 1 ? 0 : axis));
        values.put(name, q);
    }

    static void op(Model.Builder g, Map<String, TensorQuant> quant, Op op, float scale, int zeroPoint) {
        g.op(op);
        quant.put(op.output(), TensorQuant.perTensor(ElementType.INT8, scale, zeroPoint));
    }

    @ParameterizedTest(name = "float inputs and outputs: {0}")
    @ValueSource(booleans = {false, true})
    void theReferenceRuntimeGivesTheSameOutputsForTheWrittenFile(boolean floatIo) {
        Kernel kernel = Kernel.discover();
        ModelFormat<?> tflite = kernel.registry().find(PluginKind.FORMAT, "tflite", ModelFormat.class);
        IntegerModel m = model(floatIo);
        Path file = dir.resolve("m.tflite");
        IntegerModel back = roundTrip(tflite, m, file);
        assertEquals(m.quant(), back.quant());

        int n = 64;
        int size = 6 * 6 * 2;
        float[] x = new float[n * size];
        SplittableRandom r = new SplittableRandom(7);
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextDouble(-6.5, 6.5);
        }
        IntegerRuntime<?> runtime = Evaluator.integerRuntime(kernel.registry(), null);
        float[] expected = run(runtime, m, x, n);
        float[] actual = run(runtime, back, x, n);
        assertEquals(n * 5, expected.length);
        long distinct = java.util.stream.IntStream.range(0, expected.length)
                .map(i -> Float.floatToIntBits(expected[i]))
                .distinct()
                .count();
        assertTrue(distinct > 20, "the outputs vary with the samples: " + distinct + " distinct values");
        assertArrayEquals(expected, actual);
    }

    private static <O extends Record> IntegerModel roundTrip(ModelFormat<O> f, IntegerModel m, Path file) {
        f.writeInteger(m, file, f.defaultOptions());
        return f.readInteger(file, f.defaultOptions());
    }

    private static <O extends Record> float[] run(IntegerRuntime<O> runtime, IntegerModel m, float[] x, int n) {
        try (ModelExecutor e = runtime.compile(m, n, runtime.defaultOptions())) {
            return e.forward(x, n, ModelExecutor.ActivationListener.NONE);
        }
    }
}
