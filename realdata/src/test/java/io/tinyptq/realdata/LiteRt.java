package io.tinyptq.realdata;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tinyptq.api.spi.Dataset;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
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

    private LiteRt() {
    }

    static Path modules() {
        String p = System.getProperty(PROPERTY);
        assumeTrue(p != null && !p.isBlank(), "LiteRT checks skipped: -D" + PROPERTY + "=<node_modules holding"
                + " @litertjs/core> was not given (.ci/run installs it with npm when node is on the PATH)");
        Path modules = Path.of(p).toAbsolutePath();
        assertTrue(Files.isDirectory(modules.resolve("@litertjs/core/wasm")),
                "-D" + PROPERTY + "=" + p + " holds no @litertjs/core/wasm");
        return modules;
    }

    /**
     * Runs samples {@code 0..n-1} of {@code data} through {@code model} in LiteRT and returns its single output,
     * {@code outputSize} values a sample, samples back to back.
     */
    static float[] run(Path model, Dataset data, int n, int outputSize) throws IOException, InterruptedException {
        Path log = Files.createTempFile("litert", ".log");
        Process node = new ProcessBuilder(List.of("node", SCRIPT.toAbsolutePath().toString(),
                modules().toString(), model.toAbsolutePath().toString()))
                .redirectError(log.toFile()).start();
        // Samples stream in while outputs stream out: a writer thread keeps both pipes moving.
        Thread writer = Thread.ofPlatform().start(() -> write(node.getOutputStream(), data, n));
        byte[] out = node.getInputStream().readAllBytes();
        writer.join();
        assertTrue(node.waitFor(60, TimeUnit.SECONDS), "LiteRT did not exit");
        String stderr = Files.readString(log);
        Files.delete(log);
        assertEquals(0, node.exitValue(), "LiteRT failed on " + model.getFileName() + ":\n" + tail(stderr));
        assertEquals((long) n * outputSize * Float.BYTES, out.length, "LiteRT output bytes for " + n + " samples");
        float[] y = new float[n * outputSize];
        ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(y);
        return y;
    }

    private static void write(OutputStream stdin, Dataset data, int n) {
        int size = data.sampleShape().size();
        float[] x = new float[size];
        ByteBuffer bytes = ByteBuffer.allocate(size * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        try (OutputStream out = new BufferedOutputStream(stdin, 1 << 16)) {
            for (int i = 0; i < n; i++) {
                data.read(i, x, 0);
                bytes.clear();
                bytes.asFloatBuffer().put(x);
                out.write(bytes.array());
            }
        } catch (IOException e) {
            // node died early; its exit code and log say why
            throw new UncheckedIOException(e);
        }
    }

    private static String tail(String s) {
        return s.length() <= 4000 ? s : "..." + s.substring(s.length() - 4000);
    }
}
