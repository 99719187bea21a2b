package io.tinyptq.deploy.c;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyptq.api.TinyPtqException;
import io.tinyptq.api.spi.CodeGenerator;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Cortex-M4 platform and the harness on a hand-written dummy model (5 int8 in, 3 out, byte mixing): built with
 * the project's Makefile and runtime templates for cortex-m4 (run under QEMU) and for the host, outputs equal to
 * the same mixing computed here, binary bytes (0x0a, 0x1a, 0xff, all 256 values) carried unchanged through
 * semihosting, instruction counts positive and deterministic.
 */
class QemuCortexM4Test {
    private static final String RUNTIME = "/io/tinyptq/deploy/c/runtime/";
    private static final List<String> TEMPLATES = List.of(
            "Makefile",
            "main.c",
            "tinyptq_platform.h",
            "platform_host.c",
            "platform_cortex_m4.c",
            "startup_cortex_m4.c",
            "cortex_m4.ld");
    private static final int IN = 5;
    private static final int OUT = 3;
    private static final Duration TIMEOUT = Duration.ofMinutes(1);

    private static final String MODEL_H = """
            #ifndef MODEL_H
            #define MODEL_H
            #include <stdint.h>
            #define TINYPTQ_INPUT_SIZE 5
            #define TINYPTQ_OUTPUT_SIZE 3
            void tinyptq_model_run(const int8_t *input, int8_t *output);
            #endif
            """;
    /* Wrapping int8 arithmetic, written so that C's integer promotions and Java's agree. */
    private static final String MODEL_C = """
            #include "model.h"
            #include "tinyptq_rt.h"
            void tinyptq_model_run(const int8_t *input, int8_t *output) {
                output[0] = (int8_t) (uint8_t) (input[0] ^ input[2]);
                output[1] = (int8_t) (uint8_t) ((uint8_t) input[1] + (uint8_t) input[3]);
                output[2] = (int8_t) (uint8_t) ((uint8_t) input[4] * 7u + (uint8_t) input[0]);
            }
            """;

    private static byte[] expected(byte[] inputs) {
        int samples = inputs.length / IN;
        byte[] out = new byte[samples * OUT];
        for (int s = 0; s < samples; s++) {
            int i = s * IN;
            out[s * OUT] = (byte) (inputs[i] ^ inputs[i + 2]);
            out[s * OUT + 1] = (byte) ((inputs[i + 1] & 0xFF) + (inputs[i + 3] & 0xFF));
            out[s * OUT + 2] = (byte) ((inputs[i + 4] & 0xFF) * 7 + (inputs[i] & 0xFF));
        }
        return out;
    }

    /** The dummy project: templates from the class path, the dummy model, a stub runtime (the model needs none). */
    private static void writeProject(Path dir) throws IOException {
        for (String name : TEMPLATES) {
            try (InputStream in = QemuCortexM4Test.class.getResourceAsStream(RUNTIME + name)) {
                assertTrue(in != null, "resource " + RUNTIME + name + " missing");
                Files.write(dir.resolve(name), in.readAllBytes());
            }
        }
        Files.writeString(dir.resolve("model.h"), MODEL_H);
        Files.writeString(dir.resolve("model.c"), MODEL_C);
        Files.writeString(dir.resolve("tinyptq_rt.h"), "#ifndef TINYPTQ_RT_H\n#define TINYPTQ_RT_H\n#endif\n");
        Files.writeString(dir.resolve("tinyptq_rt.c"), "#include \"tinyptq_rt.h\"\ntypedef int tinyptq_rt_stub;\n");
        Files.writeString(dir.resolve(CCodeGenerator.CONFIG), "#define TINYPTQ_SINGLE_ROUNDING 1\n");
    }

    private static void assumeCortexM4Toolchain() {
        try {
            QemuCortexM4.requireToolchain();
        } catch (TinyPtqException e) {
            String line = "SKIPPED: QemuCortexM4Test needs the Cortex-M4 toolchain and QEMU: " + e.getMessage();
            System.err.println("*".repeat(20) + " " + line + " " + "*".repeat(20));
            Assumptions.assumeTrue(false, line);
        }
    }

    /** Four samples: the first and third identical; 0x0a, 0x1a, 0x0d, 0x00, 0xff, 0x80, 0x7f among the bytes. */
    private static byte[] fourSamples() {
        int[] codes = {
            0x0a, 0x1a, 0xff, 0x00, 0x0d, 0x80, 0x7f, 0x0a, 0x0a, 0x1a, 0x0a, 0x1a, 0xff, 0x00, 0x0d, 0x01, 0xfe, 0x03,
            0x1a, 0x0a
        };
        byte[] bytes = new byte[codes.length];
        for (int i = 0; i < codes.length; i++) {
            bytes[i] = (byte) codes[i];
        }
        return bytes;
    }

    /** 52 samples whose 260 bytes take all 256 values. */
    private static byte[] allByteValues() {
        byte[] bytes = new byte[52 * IN];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) (i * 37 + 11);
        }
        return bytes;
    }

    @Test
    void cortexM4RunsTheHarnessWithExactDeterministicInstructionCounts(@TempDir Path dir) throws IOException {
        assumeCortexM4Toolchain();
        writeProject(dir);
        Path elf = QemuCortexM4.build(dir);
        assertEquals(dir.resolve("build/cortex-m4/model.elf"), elf);

        byte[] four = fourSamples();
        CodeGenerator.Run run = QemuCortexM4.run(elf, four, TIMEOUT);
        assertArrayEquals(expected(four), run.outputs());
        assertEquals(4, run.instructions().length, Arrays.toString(run.instructions()));
        for (long count : run.instructions()) {
            assertTrue(count > 0, Arrays.toString(run.instructions()));
        }
        assertEquals(run.instructions()[0], run.instructions()[2], "identical inputs, identical instruction counts");
        System.err.println(
                "QemuCortexM4Test: dummy model, instructions per inference " + Arrays.toString(run.instructions()));

        byte[] all = allByteValues();
        Set<Integer> values = new TreeSet<>();
        for (byte b : all) {
            values.add(b & 0xFF);
        }
        assertEquals(256, values.size());
        CodeGenerator.Run allRun = QemuCortexM4.run(elf, all, TIMEOUT);
        assertArrayEquals(expected(all), allRun.outputs());
        assertEquals(52, allRun.instructions().length);
        // The dummy is straight-line code: every inference executes the same instructions, whatever the timer's
        // phase when it starts, and a second run repeats the first.
        assertEquals(
                1, Arrays.stream(allRun.instructions()).distinct().count(), Arrays.toString(allRun.instructions()));
        assertEquals(run.instructions()[0], allRun.instructions()[0]);
        assertArrayEquals(
                run.instructions(), QemuCortexM4.run(elf, four, TIMEOUT).instructions());

        Map<String, Long> sizes = QemuCortexM4.sizes(elf);
        assertEquals(Set.of("flash_bytes", "ram_bytes"), sizes.keySet());
        assertTrue(sizes.get("flash_bytes") > sizes.get("ram_bytes"), sizes.toString());
        assertTrue(sizes.get("ram_bytes") > 0, sizes.toString());
        System.err.println("QemuCortexM4Test: dummy model image " + sizes);
    }

    /*
     * The probe of platform_cortex_m4.c's exactness: between two platform_instructions() calls, loops of n
     * iterations of 2 ("subs; bne") and 3 ("subs; nop; bne") instructions, after a delay that varies the timer's
     * phase; prints the measured count less 2n (3n), which must be one constant per loop.
     */
    private static final String PROBE_C = """
            #include <stdint.h>
            #include <stdio.h>
            #include "tinyptq_platform.h"
            static void __attribute__((noinline)) loop2(uint32_t n) {
                __asm volatile("cbz %0, 2f\\n1: subs %0, %0, #1\\nbne 1b\\n2:\\n" : "+r"(n) :: "cc");
            }
            static void __attribute__((noinline)) loop3(uint32_t n) {
                __asm volatile("cbz %0, 2f\\n1: subs %0, %0, #1\\nnop\\nbne 1b\\n2:\\n" : "+r"(n) :: "cc");
            }
            int main(void) {
                platform_init();
                for (uint32_t n = 0; n <= 400; n++) {
                    loop2(n * 7 % 41);
                    uint64_t a = platform_instructions();
                    loop2(n);
                    uint64_t b = platform_instructions();
                    loop3(n * 5 % 43);
                    uint64_t c = platform_instructions();
                    loop3(n);
                    uint64_t d = platform_instructions();
                    printf("%ld %ld\\n", (long) (b - a) - 2 * (long) n, (long) (d - c) - 3 * (long) n);
                }
                return 0;
            }
            """;

    @Test
    void instructionCountsAreExact(@TempDir Path dir) throws IOException {
        assumeCortexM4Toolchain();
        writeProject(dir);
        Files.writeString(dir.resolve("main.c"), PROBE_C);
        Path elf = QemuCortexM4.build(dir);
        List<String> lines = new String(
                        QemuCortexM4.run(elf, new byte[0], TIMEOUT).outputs(), StandardCharsets.US_ASCII)
                .lines()
                .toList();
        assertEquals(401, lines.size());
        assertEquals(1, lines.stream().distinct().count(), "measured less executed, per loop: " + new TreeSet<>(lines));
    }

    @Test
    void cortexM4EmptyInputRunsNoInference(@TempDir Path dir) throws IOException {
        assumeCortexM4Toolchain();
        writeProject(dir);
        CodeGenerator.Run run = QemuCortexM4.run(QemuCortexM4.build(dir), new byte[0], TIMEOUT);
        assertEquals(0, run.outputs().length);
        assertEquals(0, run.instructions().length);
    }

    @Test
    void aFailedBuildCarriesTheCompilerOutput(@TempDir Path dir) throws IOException {
        assumeCortexM4Toolchain();
        writeProject(dir);
        Files.writeString(dir.resolve("model.c"), MODEL_C + "\nint broken(void) { return undeclared_name; }\n");
        TinyPtqException e = assertThrows(TinyPtqException.class, () -> QemuCortexM4.build(dir));
        assertTrue(e.getMessage().contains("undeclared_name"), e.getMessage());
    }

    @Test
    void aMissingToolIsNotOnPath() {
        assertFalse(NativeProcess.onPath("tinyptq-no-such-tool"));
    }

    @Test
    void hostRunsTheSameHarness(@TempDir Path dir) throws IOException, InterruptedException {
        if (!NativeProcess.onPath("make") || !NativeProcess.onPath("cc")) {
            String line = "SKIPPED: QemuCortexM4Test.hostRunsTheSameHarness needs make and cc: install the Debian"
                    + " packages make and gcc";
            System.err.println("*".repeat(20) + " " + line + " " + "*".repeat(20));
            Assumptions.assumeTrue(false, line);
        }
        writeProject(dir);
        Process make = new ProcessBuilder("make", "-C", dir.toString(), "host")
                .redirectErrorStream(true)
                .start();
        String log = new String(make.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(make.waitFor(1, TimeUnit.MINUTES));
        assertEquals(0, make.exitValue(), log);

        byte[] all = allByteValues();
        Path in = dir.resolve("in.bin");
        Path out = dir.resolve("out.bin");
        Path err = dir.resolve("err.txt");
        Files.write(in, all);
        Process model = new ProcessBuilder(dir.resolve("build/host/model").toString())
                .redirectInput(in.toFile())
                .redirectOutput(out.toFile())
                .redirectError(err.toFile())
                .start();
        assertTrue(model.waitFor(1, TimeUnit.MINUTES));
        assertEquals(0, model.exitValue());
        assertArrayEquals(expected(all), Files.readAllBytes(out));
        assertEquals("", Files.readString(err), "the host counts no instructions");
    }
}
