package io.tinyptq.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyptq.api.integer.FixedPoint;
import io.tinyptq.api.integer.IntegerModel;
import io.tinyptq.api.integer.TensorQuant;
import io.tinyptq.api.model.Activation;
import io.tinyptq.api.model.Model;
import io.tinyptq.api.model.Op;
import io.tinyptq.api.quant.QuantizedModel;
import io.tinyptq.api.spi.CodeGenerator;
import io.tinyptq.api.spi.Dataset;
import io.tinyptq.api.spi.PluginKind;
import io.tinyptq.deploy.c.CCodeGenerator;
import io.tinyptq.kernel.deploy.DeviceInputs;
import io.tinyptq.kernel.deploy.TfliteLowering;
import io.tinyptq.kernel.store.QuantizedModelStore;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Models of every op family quantized under target tflite at W8A8, W4A4, W3A3, W2A2 and a mixed assignment,
 * exported as C with weights and activations packed at their bit-width, built by the host's gcc with
 * {@code -std=c99 -Wall -Wextra -Werror} and AddressSanitizer + UndefinedBehaviorSanitizer, and run: every output
 * byte equals the integer interpreter's (TFLite's reference arithmetic).
 */
class CExportTest {
    static final String SANITIZED =
            CCodeGenerator.HOST_CFLAGS + " -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all";

    static Stream<Arguments> cases() {
        List<Arguments> cases = new ArrayList<>();
        String[][] bits = {
            {"W8A8", "8", "8", ""},
            {"W4A4", "4", "4", ""},
            {"W3A3", "3", "3", ""},
            {"W2A2", "2", "2", ""},
            {
                "mixed",
                "4",
                "3",
                ", overrides: [{layer: %s, weight_bits: 8,"
                        + " activation_bits: 8}, {layer: %s, weight_bits: 2, activation_bits: 5}]"
            }
        };
        TfliteTargetTest.models().forEach(a -> {
            for (String[] b : bits) {
                cases.add(Arguments.of(a.get()[0] + " " + b[0], a.get()[1], b));
            }
        });
        return cases.stream();
    }

    /**
     * The C runtime's op list is the interpreter's: both switch exhaustively over the sealed {@link Op}, and the
     * models above, each compared output for output with the interpreter, hold every kind of op there is (pools of
     * both kinds, activations fused and standalone). BatchNorm is folded before lowering and refused by both.
     */
    @Test
    void theTestModelsHoldEveryOpTheInterpreterRuns() {
        Set<String> all = new TreeSet<>();
        leaves(Op.class).stream().filter(c -> c != Op.BatchNorm.class).forEach(c -> all.add(c.getSimpleName()));
        for (Op.PoolKind k : Op.PoolKind.values()) {
            all.add("Pool " + k);
        }
        all.add("Act standalone");
        all.add("fused activation");
        Set<String> seen = new TreeSet<>();
        TfliteTargetTest.models()
                .map(a -> (Model) a.get()[1])
                .flatMap(m -> m.ops().stream())
                .forEach(op -> {
                    seen.add(op.getClass().getSimpleName());
                    switch (op) {
                        case Op.Pool p -> seen.add("Pool " + p.kind());
                        case Op.Act a -> seen.add("Act standalone");
                        case Op.Layer l when l.activation() != Activation.NONE -> seen.add("fused activation");
                        default -> {}
                    }
                });
        seen.remove("BatchNorm");
        assertEquals(all, seen, "ops of the C export's test models");
    }

    private static List<Class<?>> leaves(Class<?> sealed) {
        if (!sealed.isSealed()) {
            return List.of(sealed);
        }
        List<Class<?>> out = new ArrayList<>();
        for (Class<?> c : sealed.getPermittedSubclasses()) {
            out.addAll(leaves(c));
        }
        return out;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void generatedCodeComputesTheInterpreterOutputs(String name, Model m, String[] bits, @TempDir Path dir) {
        String overrides = bits[3].isEmpty()
                ? ""
                : String.format(
                        bits[3],
                        m.layers().get(0).name(),
                        m.layers().get(m.layers().size() - 1).name());
        QuantizedModel qm = TfliteTargetTest.quantize(
                m,
                "calibration: {size: 64}\nquantization: {target: tflite," + " weight_bits: " + bits[1]
                        + ", activation_bits: " + bits[2] + overrides + "}\n",
                dir.resolve("w"));
        IntegerModel lowered = TfliteLowering.lower(qm, false);
        @SuppressWarnings("unchecked")
        CodeGenerator<CCodeGenerator.Options> c =
                TfliteTargetTest.K.registry().find(PluginKind.CODEGEN, "c", CodeGenerator.class);
        Dataset data = TfliteTargetTest.samples(m, 40, 21);
        String in = lowered.graph().inputs().keySet().iterator().next();
        TensorQuant iq = lowered.integerQuant(in);
        int size = data.sampleShape().size();
        byte[] inputs = new byte[data.size() * size];
        float[] x = new float[size];
        float[] floats = new float[data.size() * size];
        for (int i = 0; i < data.size(); i++) {
            data.read(i, x, 0);
            for (int j = 0; j < size; j++) {
                int q = DeviceInputs.code(x[j], iq);
                inputs[i * size + j] = (byte) q;
                floats[i * size + j] = iq.scale(0) * (q - iq.zeroPoint(0));
            }
        }
        TensorQuant oq = lowered.integerQuant(lowered.graph().outputs().get(0));
        // Each rounding against the interpreter in the arithmetic the project names; the default (single) also with
        // the sanitizers and on the Cortex-M4.
        for (FixedPoint.Rounding rounding : FixedPoint.Rounding.values()) {
            boolean single = rounding == FixedPoint.Rounding.SINGLE;
            Path project = dir.resolve("c-" + rounding);
            CodeGenerator.GeneratedCode code =
                    c.generate(lowered, project, new CCodeGenerator.Options(CCodeGenerator.HOST_CFLAGS, rounding));
            List<String> oracle = c.runtimeOptions(project);
            assertEquals(List.of(single ? "arithmetic=tflite_single_rounding" : "arithmetic=tflite_reference"), oracle);
            if (bits[3].isEmpty()) {
                assertEquals(
                        Integer.parseInt(bits[2]),
                        code.tensorBits().get(m.layers().get(1).output()),
                        name + ": activations packed at their bits");
            } else {
                assertTrue(
                        new java.util.HashSet<>(code.tensorBits().values()).size() >= 3,
                        name + ": bit-widths " + code.tensorBits());
            }
            float[] expected =
                    TfliteTargetTest.integerOutputs(lowered, new Floats(data, floats), oracle.toArray(String[]::new));
            for (String flags : single
                    ? new String[] {CCodeGenerator.HOST_CFLAGS, SANITIZED}
                    : new String[] {CCodeGenerator.HOST_CFLAGS}) {
                CodeGenerator.Program p = c.build(project, "host", new CCodeGenerator.Options(flags, rounding));
                byte[] out = p.run(inputs, data.size()).outputs();
                assertEquals(expected.length, out.length, name);
                float[] got = new float[out.length];
                for (int i = 0; i < out.length; i++) {
                    got[i] = (float) ((double) oq.scale(0) * (out[i] - oq.zeroPoint(0)));
                }
                assertArrayEquals(expected, got, name + " rounding " + rounding + ", built with " + flags);
            }
            assertTrue(code.arenaBytes() > 0 && code.flashBytes() > 0, name + ": " + code);
            assertEquals(code, c.layout(lowered, c.defaultOptions()), name + ": the layout without writing");
            if (single && bits[0].equals("W4A4")) {
                infoReportsTheLayout(name, qm, code, dir);
            }
            if (single && (bits[0].equals("W4A4") || bits[0].equals("mixed"))) {
                cortexM4(name, c, project, inputs, data.size(), expected, oq);
            }
        }
    }

    /**
     * {@code info} on the stored run: the estimate at the model's own bit-widths, and the generator's layout beside
     * it.
     */
    private static void infoReportsTheLayout(
            String name, QuantizedModel qm, CodeGenerator.GeneratedCode code, Path dir) {
        Path store = dir.resolve("store");
        QuantizedModelStore.save(qm.model(), qm, store);
        CliTest.Result r = CliTest.run("info", "--model", store.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("peak memory at W4A4"), name + ": " + r.out());
        assertTrue(
                r.out()
                        .contains(String.format(
                                java.util.Locale.ROOT,
                                "on a device, c: %,d B constants (flash) +" + " %,d B arena (RAM) = %,d B, ",
                                code.flashBytes(),
                                code.arenaBytes(),
                                code.flashBytes() + code.arenaBytes())),
                name + ": " + r.out());
    }

    /** The same project built for a Cortex-M4 and run under QEMU: the same outputs, counted instructions. */
    private static void cortexM4(
            String name,
            CodeGenerator<CCodeGenerator.Options> c,
            Path project,
            byte[] inputs,
            int samples,
            float[] expected,
            TensorQuant oq) {
        if (!ARM) {
            System.err.println("SKIPPED Cortex-M4 build of " + name + ": arm-none-eabi-gcc or qemu-system-arm not on"
                    + " the PATH (Debian packages gcc-arm-none-eabi, libnewlib-arm-none-eabi, qemu-system-arm)");
            return;
        }
        CodeGenerator.Program p = c.build(project, "cortex-m4", c.defaultOptions());
        CodeGenerator.Run run = p.run(inputs, samples);
        float[] got = new float[run.outputs().length];
        for (int i = 0; i < got.length; i++) {
            got[i] = (float) ((double) oq.scale(0) * (run.outputs()[i] - oq.zeroPoint(0)));
        }
        assertArrayEquals(expected, got, name + " on the Cortex-M4");
        assertEquals(samples, run.instructions().length, name + ": one instruction count per inference");
        assertTrue(run.instructions()[0] > 0 && p.sizes().get("flash_bytes") > 0, name + ": " + p.sizes());
    }

    static final boolean ARM = onPath("arm-none-eabi-gcc") && onPath("qemu-system-arm");

    private static boolean onPath(String tool) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            if (java.nio.file.Files.isExecutable(Path.of(d, tool))) {
                return true;
            }
        }
        return false;
    }

    /** {@code base}'s labels with the given sample values. */
    record Floats(Dataset base, float[] values) implements Dataset {
        public String name() {
            return base.name();
        }

        public int size() {
            return base.size();
        }

        public io.tinyptq.api.model.Shape sampleShape() {
            return base.sampleShape();
        }

        public int numClasses() {
            return base.numClasses();
        }

        public void read(int index, float[] dst, int offset) {
            int n = sampleShape().size();
            System.arraycopy(values, index * n, dst, offset, n);
        }

        public int label(int index) {
            return base.label(index);
        }
    }
}
