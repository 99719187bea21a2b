package io.tinyptq.realdata;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tinyptq.api.integer.TensorQuant;
import io.tinyptq.api.spi.Dataset;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * LiteRT, the TFLite runtime (npm {@code @litertjs/core}: the TFLite interpreter with XNNPACK, compiled to
 * WebAssembly), run under node by {@code litert/run-tflite.mjs}: an independent reader of the {@code .tflite} files
 * tinyptq writes. The system property {@code tinyptq.litert} names the {@code node_modules} folder holding it
 * ({@code .ci/run} installs it with npm when node is present); without it these checks are skipped, saying why.
 */
final class LiteRt {
    static final String PROPERTY = "tinyptq.litert";
    /** The harness; tests run in realdata/. */
    static final Path SCRIPT = Path.of("litert", "run-tflite.mjs");

    private LiteRt() {}

    static Path modules() {
        String p = System.getProperty(PROPERTY);
        assumeTrue(
                p != null && !p.isBlank(),
                "LiteRT checks skipped: -D" + PROPERTY + "=<node_modules holding"
                        + " @litertjs/core> was not given (.ci/run installs it with npm when node is on the PATH)");
        Path modules = Path.of(p).toAbsolutePath();
        assertTrue(
                Files.isDirectory(modules.resolve("@litertjs/core/wasm")),
                "-D" + PROPERTY + "=" + p + " holds no @litertjs/core/wasm");
        return modules;
    }

    /** A model input or output as LiteRT sees it. */
    record Io(String name, String dtype, int[] shape) {
        int size() {
            int n = 1;
            for (int d : shape) {
                n *= d;
            }
            return n;
        }
    }

    /** The inputs and outputs of a model file, as LiteRT reads them. */
    record Description(List<Io> inputs, List<Io> outputs) {}

    /** Writes sample {@code i} to LiteRT's stdin in the first input's type. */
    @FunctionalInterface
    interface SampleWriter {
        void write(int i, OutputStream out) throws IOException;
    }

    static Description describe(Path model) throws IOException, InterruptedException {
        byte[] out = node(model, List.of("--describe"), 1, (i, o) -> {});
        JsonNode json = new ObjectMapper().readTree(out);
        return new Description(ios(json.get("inputs")), ios(json.get("outputs")));
    }

    /**
     * Runs samples {@code 0..n-1} of {@code data} through a model with one float input and one float output of
     * {@code outputSize} values a sample; returns the outputs back to back.
     */
    static float[] run(Path model, Dataset data, int n, int outputSize) throws IOException, InterruptedException {
        int size = data.sampleShape().size();
        float[] x = new float[size];
        ByteBuffer bytes = ByteBuffer.allocate(size * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        byte[] out = run(model, n, (i, o) -> {
            data.read(i, x, 0);
            bytes.clear();
            bytes.asFloatBuffer().put(x);
            o.write(bytes.array());
        });
        assertEquals((long) n * outputSize * Float.BYTES, out.length, "LiteRT output bytes for " + n + " samples");
        float[] y = new float[n * outputSize];
        ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(y);
        return y;
    }

    /**
     * Sample {@code i} of {@code data} as int8, the way TFLite's QUANTIZE computes it from the input quantization
     * {@code q}: {@code clamp(round(x / scale) + zeroPoint, -128, 127)}, the division in float32, ties away from zero.
     */
    static SampleWriter int8Samples(Dataset data, TensorQuant q) {
        int size = data.sampleShape().size();
        float scale = q.scale(0);
        int zp = q.zeroPoint(0);
        float[] x = new float[size];
        byte[] b = new byte[size];
        return (i, out) -> {
            data.read(i, x, 0);
            for (int k = 0; k < size; k++) {
                float v = x[k] / scale;
                long r = (long) Math.signum(v) * (long) Math.floor(Math.abs(v) + 0.5f);
                b[k] = (byte) Math.max(-128, Math.min(127, r + zp));
            }
            out.write(b);
        };
    }

    /** Runs {@code n} samples, each written by {@code writer}; returns every output's raw bytes, sample by sample. */
    static byte[] run(Path model, int n, SampleWriter writer) throws IOException, InterruptedException {
        return node(model, List.of(), n, writer);
    }

    private static byte[] node(Path model, List<String> flags, int n, SampleWriter writer)
            throws IOException, InterruptedException {
        Path log = Files.createTempFile("litert", ".log");
        List<String> command = new ArrayList<>(List.of(
                "node",
                SCRIPT.toAbsolutePath().toString(),
                modules().toString(),
                model.toAbsolutePath().toString()));
        command.addAll(flags);
        Process node = new ProcessBuilder(command).redirectError(log.toFile()).start();
        // Samples stream in while outputs stream out: a writer thread keeps both pipes moving.
        Thread feeder = Thread.ofPlatform().start(() -> {
            try (OutputStream out = new BufferedOutputStream(node.getOutputStream(), 1 << 16)) {
                for (int i = 0; i < n && flags.isEmpty(); i++) {
                    writer.write(i, out);
                }
            } catch (IOException e) {
                // node died early; its exit code and log say why
                throw new UncheckedIOException(e);
            }
        });
        byte[] out = node.getInputStream().readAllBytes();
        feeder.join();
        assertTrue(node.waitFor(60, TimeUnit.SECONDS), "LiteRT did not exit");
        String stderr = Files.readString(log);
        Files.delete(log);
        assertEquals(0, node.exitValue(), "LiteRT failed on " + model.getFileName() + ":\n" + tail(stderr));
        return out;
    }

    private static List<Io> ios(JsonNode list) {
        List<Io> r = new ArrayList<>();
        for (JsonNode t : list) {
            int[] shape = new int[t.get("shape").size()];
            for (int k = 0; k < shape.length; k++) {
                shape[k] = t.get("shape").get(k).asInt();
            }
            r.add(new Io(t.get("name").asText(), t.get("dtype").asText(), shape));
        }
        return r;
    }

    private static String tail(String s) {
        return s.length() <= 4000 ? s : "..." + s.substring(s.length() - 4000);
    }
}
