package io.tinyptq.kernel.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyptq.api.TinyPtqException;
import io.tinyptq.api.integer.ElementType;
import io.tinyptq.api.integer.IntegerModel;
import io.tinyptq.api.integer.TensorQuant;
import io.tinyptq.api.model.Activation;
import io.tinyptq.api.model.Model;
import io.tinyptq.api.model.Op;
import io.tinyptq.api.model.Shape;
import io.tinyptq.api.model.Tensor;
import io.tinyptq.api.spi.Dataset;
import io.tinyptq.api.spi.IntegerRuntime;
import io.tinyptq.api.spi.ModelExecutor;
import io.tinyptq.api.spi.ModelFormat;
import io.tinyptq.api.spi.ProgressListener;
import io.tinyptq.kernel.data.ModelFiles;
import io.tinyptq.kernel.registry.PluginNotFoundException;
import io.tinyptq.kernel.registry.PluginRegistry;
import io.tinyptq.kernel.stats.IntegerStats;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Fully-integer models through the kernel: model files, evaluation through an integer runtime, stored sizes. */
class IntegerEvaluationTest {
    @TempDir
    Path dir;

    /**
     * float input [3] (quantized at scale 0.5, zero point 1) -> fc1 4x3 INT4 weights, INT32 bias -> fc2 2x4 INT8
     * weights without bias; int8 activations, a float output dequantized from fc2's.
     */
    static IntegerModel model() {
        int[] w1 = {1, -2, 3, -4, 5, -6, 7, -8, 0, 1, 2, 3};
        int[] b1 = {10, -10, 20, 0};
        int[] w2 = {100, -100, 50, 0, 1, 2, 3, 4};
        Model g = Model.builder("int-mlp")
                .input("x", Shape.of(3))
                .constant("fc1/kernel", new Tensor(Shape.of(4, 3), scaled(w1, 0.25f)))
                .constant("fc1/bias", new Tensor(Shape.of(4), scaled(b1, 0.125f)))
                .constant("fc2/kernel", new Tensor(Shape.of(2, 4), scaled(w2, 0.01f)))
                .op(new Op.FullyConnected("fc1", "x", "fc1/kernel", "fc1/bias", "fc1", Activation.RELU))
                .op(new Op.FullyConnected("fc2", "fc1", "fc2/kernel", null, "fc2", Activation.NONE))
                .output("fc2")
                .build();
        return new IntegerModel(
                g,
                Map.of(
                        "x",
                        TensorQuant.float32(),
                        "fc1",
                        TensorQuant.perTensor(ElementType.INT8, 0.1f, -128),
                        "fc2",
                        TensorQuant.float32(),
                        "fc1/kernel",
                        TensorQuant.perTensor(ElementType.INT4, 0.25f, 0),
                        "fc1/bias",
                        TensorQuant.perTensor(ElementType.INT32, 0.125f, 0),
                        "fc2/kernel",
                        TensorQuant.perTensor(ElementType.INT8, 0.01f, 0)),
                Map.of("fc1/kernel", w1, "fc1/bias", b1, "fc2/kernel", w2),
                Map.of(
                        "x",
                        TensorQuant.perTensor(ElementType.INT8, 0.5f, 1),
                        "fc2",
                        TensorQuant.perTensor(ElementType.INT8, 0.2f, 3)));
    }

    static float[] scaled(int[] q, float s) {
        float[] v = new float[q.length];
        for (int i = 0; i < q.length; i++) {
            v[i] = q[i] * s;
        }
        return v;
    }

    /** Returns, for each sample, its first two values quantized and dequantized with the input's quantization. */
    static final class FakeRuntime implements IntegerRuntime<FakeRuntime.Options> {
        record Options() {}

        final String name;
        IntegerModel compiled;
        int maxBatch;

        FakeRuntime(String name) {
            this.name = name;
        }

        public String name() {
            return name;
        }

        public Class<Options> optionsType() {
            return Options.class;
        }

        public Options defaultOptions() {
            return new Options();
        }

        public ModelExecutor compile(IntegerModel model, int maxBatch, Options options) {
            this.compiled = model;
            this.maxBatch = maxBatch;
            TensorQuant q = model.integerQuant("x");
            return new ModelExecutor() {
                public int maxBatch() {
                    return maxBatch;
                }

                public float[] forward(float[] in, int batch, ActivationListener listener) {
                    float[] out = new float[2 * batch];
                    for (int j = 0; j < batch; j++) {
                        for (int k = 0; k < 2; k++) {
                            long v = Math.max(
                                    -128, Math.min(127, Math.round(in[3 * j + k] / q.scale(0)) + q.zeroPoint(0)));
                            out[2 * j + k] = q.scale(0) * (v - q.zeroPoint(0));
                        }
                    }
                    return out;
                }

                public void close() {}
            };
        }
    }

    @Test
    void evaluatesThroughTheIntegerRuntimeLikeAFloatModel() {
        FakeRuntime rt = new FakeRuntime("reference");
        Dataset data = EvaluatorTest.data(11, Shape.of(3), 2);
        Evaluation e = Evaluator.runInteger(rt, model(), data, 4, 0, ProgressListener.NONE);
        assertEquals(4, rt.maxBatch);
        assertEquals(11, e.samples());
        long correct = 0;
        float[] x = new float[3];
        for (int i = 0; i < data.size(); i++) {
            data.read(i, x, 0);
            long q0 = Math.max(-128, Math.min(127, Math.round(x[0] / 0.5f) + 1));
            long q1 = Math.max(-128, Math.min(127, Math.round(x[1] / 0.5f) + 1));
            correct += (q1 > q0 ? 1 : 0) == data.label(i) ? 1 : 0;
        }
        assertEquals(correct, e.correct());
    }

    @Test
    void findsTheRuntimeByNameAndSaysWhatIsMissing() {
        FakeRuntime rt = new FakeRuntime("reference");
        assertSame(rt, Evaluator.integerRuntime(PluginRegistry.of(List.of(rt)), null));
        assertSame(rt, Evaluator.integerRuntime(PluginRegistry.of(List.of(rt)), "reference"));
        var unknown = assertThrows(
                PluginNotFoundException.class, () -> Evaluator.integerRuntime(PluginRegistry.of(List.of(rt)), "fast"));
        assertTrue(
                unknown.getMessage().contains("unknown integer plugin 'fast'; known integer plugins: [reference]"),
                unknown.getMessage());
        var none = assertThrows(
                TinyPtqException.class, () -> Evaluator.integerRuntime(PluginRegistry.of(List.of()), null));
        assertTrue(
                none.getMessage()
                        .contains("no plugin of kind 'integer' (integer runtime,"
                                + " io.tinyptq.api.spi.IntegerRuntime) was found"),
                none.getMessage());
        assertTrue(none.getMessage().contains("'reference'"), none.getMessage());
    }

    /** A format claiming {@code .fake}: files starting with "int" are integer models. */
    static final class FakeFormat implements ModelFormat<FakeFormat.Options> {
        record Options() {}

        public String name() {
            return "fake";
        }

        public Class<Options> optionsType() {
            return Options.class;
        }

        public Options defaultOptions() {
            return new Options();
        }

        public List<String> extensions() {
            return List.of("fake");
        }

        public Model read(Path file, Options options) {
            throw new TinyPtqException(file + " is a fully-integer model");
        }

        public boolean isInteger(Path file, Options options) {
            return file.getFileName().toString().startsWith("int");
        }

        public IntegerModel readInteger(Path file, Options options) {
            return model();
        }
    }

    @Test
    void modelFilesReadIntegerModelsThroughTheFormatRegistry() throws Exception {
        PluginRegistry registry = PluginRegistry.of(List.of(new FakeFormat()));
        Path integer = Files.writeString(dir.resolve("int.fake"), "x");
        Path other = Files.writeString(dir.resolve("float.fake"), "x");
        assertTrue(ModelFiles.isInteger(registry, integer));
        assertFalse(ModelFiles.isInteger(registry, other));
        assertFalse(ModelFiles.isInteger(registry, dir), "a directory is a stored model, not an integer file");
        assertEquals(
                "int-mlp", ModelFiles.readInteger(registry, integer).graph().name());
        var missing =
                assertThrows(TinyPtqException.class, () -> ModelFiles.readInteger(registry, dir.resolve("none.fake")));
        assertTrue(missing.getMessage().contains("does not exist"), missing.getMessage());
    }

    @Test
    void storedSizesCountEachConstantAtItsTypeAndActivationsAtTheirIntegerType() {
        IntegerStats s = IntegerStats.of(model());
        // fc1: 12 INT4 weights = 6 bytes; fc2: 8 INT8 = 8 bytes; fc1's 4 INT32 biases = 16 bytes.
        assertEquals(14, s.weightBytes());
        assertEquals(16, s.biasBytes());
        assertEquals(0, s.otherBytes());
        assertEquals(30, s.parameterBytes());
        assertEquals(Map.of(ElementType.INT4, 12L, ElementType.INT8, 8L), s.weightElements());
        assertEquals(Map.of(ElementType.INT32, 4L), s.biasElements());
        // While fc1 runs: x (3 bytes as the int8 it is quantized to) + fc1 (4); while fc2 runs: 4 + 2.
        assertEquals(7, s.peakActivationBytes());
        assertEquals(37, s.peakMemoryBytes());
        assertArrayEquals(new int[] {1, -2, 3, -4, 5, -6, 7, -8, 0, 1, 2, 3}, model().values("fc1/kernel"));
    }
}
