package io.tinyptq.deploy.c;

import io.tinyptq.api.TinyPtqException;
import io.tinyptq.api.spi.CodeGenerator;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The Cortex-M4 platform of the generated C project: builds {@code build/cortex-m4/model.elf} with
 * arm-none-eabi-gcc ({@code make cortex-m4}), runs it under QEMU's {@code mps2-an386} board with semihosting stdio
 * and {@code -icount shift=0} (one nanosecond of virtual time per instruction, read by {@code platform_cortex_m4.c}
 * as an exact instruction count), and reports the image's flash and RAM from arm-none-eabi-size.
 */
final class QemuCortexM4 {
    static final String COMPILER = "arm-none-eabi-gcc";
    static final String SIZE = "arm-none-eabi-size";
    /** Where the linker script puts RAM (.data, .bss); everything below it is flash. */
    static final long RAM_BASE = 0x20000000L;

    static final String EMULATOR = "qemu-system-arm";
    static final String INSTRUCTIONS_PREFIX = "tinyptq-instructions ";
    /** How many of the compiler's or the emulator's last output lines an error message carries. */
    private static final int TAIL_LINES = 20;

    /** Whether the compiler's newlib was found once (the check runs the compiler). */
    private static volatile boolean newlibChecked;

    private QemuCortexM4() {}

    /** The QEMU command line that runs {@code elf}. */
    static List<String> qemuCommand(Path elf) {
        return List.of(
                EMULATOR,
                "-M",
                "mps2-an386",
                "-nographic",
                "-monitor",
                "none",
                "-serial",
                "none",
                "-semihosting-config",
                "enable=on,target=native",
                "-icount",
                "shift=0",
                "-kernel",
                elf.toString());
    }

    /**
     * Fails with a one-line {@link TinyPtqException} naming the first missing tool (compiler, size tool, emulator,
     * make, newlib) and the Debian package that provides it.
     */
    static void requireToolchain() {
        if (!NativeProcess.onPath("make")) {
            throw new TinyPtqException("make not found on PATH: install the Debian package make");
        }
        for (String tool : List.of(COMPILER, SIZE)) {
            if (!NativeProcess.onPath(tool)) {
                throw new TinyPtqException(tool + " not found on PATH: install the Debian packages gcc-arm-none-eabi"
                        + " and libnewlib-arm-none-eabi (the Cortex-M4 compiler and its C library)");
            }
        }
        if (!NativeProcess.onPath(EMULATOR)) {
            throw new TinyPtqException(EMULATOR + " not found on PATH: install the Debian package qemu-system-arm");
        }
        if (!newlibChecked) {
            NativeProcess.Result result = NativeProcess.run(
                    List.of(COMPILER, "-mcpu=cortex-m4", "-mthumb", "-print-file-name=librdimon.a"),
                    Path.of("."),
                    new byte[0],
                    Duration.ofMinutes(1));
            String found = new String(result.stdout(), StandardCharsets.UTF_8).strip();
            if (result.exitCode() != 0 || !Files.isRegularFile(Path.of(found))) {
                throw new TinyPtqException(COMPILER + " has no newlib (librdimon.a for semihosting): install the"
                        + " Debian package libnewlib-arm-none-eabi");
            }
            newlibChecked = true;
        }
    }

    /**
     * Runs {@code make -C projectDir cortex-m4} and returns the ELF it built; a failed build fails with the last
     * lines of the compiler's output.
     */
    static Path build(Path project) {
        requireToolchain();
        Path projectDir = project.toAbsolutePath();
        NativeProcess.Result result = NativeProcess.run(
                List.of("make", "-C", projectDir.toString(), "cortex-m4"),
                projectDir,
                new byte[0],
                Duration.ofMinutes(10));
        String output = new String(result.stdout(), StandardCharsets.UTF_8)
                + new String(result.stderr(), StandardCharsets.UTF_8);
        if (result.exitCode() != 0) {
            throw new TinyPtqException("make cortex-m4 failed in " + projectDir + " (exit " + result.exitCode() + "):\n"
                    + tail(output.lines().toList()));
        }
        Path elf = projectDir.resolve("build/cortex-m4/model.elf");
        if (!Files.isRegularFile(elf)) {
            throw new TinyPtqException("make cortex-m4 in " + projectDir + " made no " + elf + ":\n"
                    + tail(output.lines().toList()));
        }
        return elf;
    }

    /**
     * Runs {@code elf} under QEMU with {@code input} on its stdin and returns its stdout bytes and the instructions
     * of each inference (the harness's {@code tinyptq-instructions N} lines on stderr, in order). A nonzero exit, a
     * run past {@code timeout} or an unreadable instruction line fails with the program's other stderr lines.
     */
    static CodeGenerator.Run run(Path elf, byte[] input, Duration timeout) {
        requireToolchain();
        NativeProcess.Result result =
                NativeProcess.run(qemuCommand(elf), elf.toAbsolutePath().getParent(), input, timeout);
        List<String> other = new ArrayList<>();
        List<Long> counts = new ArrayList<>();
        for (String line :
                new String(result.stderr(), StandardCharsets.UTF_8).lines().toList()) {
            if (line.startsWith(INSTRUCTIONS_PREFIX)) {
                try {
                    counts.add(Long.parseLong(
                            line.substring(INSTRUCTIONS_PREFIX.length()).strip()));
                } catch (NumberFormatException e) {
                    throw new TinyPtqException("unreadable instruction count from " + elf + ": '" + line + "'");
                }
            } else {
                other.add(line);
            }
        }
        if (result.exitCode() != 0) {
            throw new TinyPtqException(EMULATOR + " running " + elf + " exited with " + result.exitCode()
                    + (other.isEmpty() ? "" : ":\n" + tail(other)));
        }
        return new CodeGenerator.Run(
                result.stdout(), counts.stream().mapToLong(Long::longValue).toArray());
    }

    /**
     * {@code flash_bytes} (every allocated section below RAM: vectors, code, constants, plus .data's initial values)
     * and {@code ram_bytes} (.data and .bss: the static RAM, the arena included; stack and heap not) of {@code elf},
     * from arm-none-eabi-size's per-section listing.
     */
    static Map<String, Long> sizes(Path elf) {
        if (!NativeProcess.onPath(SIZE)) {
            throw new TinyPtqException(SIZE + " not found on PATH: install the Debian package gcc-arm-none-eabi");
        }
        // Per section (SysV format): Berkeley's "data" would count .rodata, which this layout keeps in flash.
        NativeProcess.Result result = NativeProcess.run(
                List.of(SIZE, "-A", elf.toString()),
                elf.toAbsolutePath().getParent(),
                new byte[0],
                Duration.ofMinutes(1));
        List<String> lines =
                new String(result.stdout(), StandardCharsets.UTF_8).lines().toList();
        if (result.exitCode() != 0) {
            throw new TinyPtqException(SIZE + " failed on " + elf + ":\n"
                    + tail(new String(result.stderr(), StandardCharsets.UTF_8)
                            .lines()
                            .toList()));
        }
        long flash = 0;
        long ram = 0;
        for (String line : lines) {
            String[] f = line.strip().split("\\s+");
            if (f.length != 3
                    || !f[0].startsWith(".")
                    || f[0].startsWith(".debug")
                    || f[0].equals(".comment")
                    || f[0].equals(".ARM.attributes")) {
                continue;
            }
            try {
                long size = Long.parseLong(f[1]);
                long addr = Long.parseLong(f[2]);
                if (addr >= RAM_BASE) {
                    ram += size;
                    flash += f[0].equals(".data") ? size : 0; // its initial values are stored in flash
                } else {
                    flash += size;
                }
            } catch (NumberFormatException e) {
                throw new TinyPtqException("unreadable " + SIZE + " output for " + elf + ": '" + line + "'");
            }
        }
        return Map.of("flash_bytes", flash, "ram_bytes", ram);
    }

    private static String tail(List<String> lines) {
        return String.join("\n", lines.subList(Math.max(0, lines.size() - TAIL_LINES), lines.size()));
    }
}
