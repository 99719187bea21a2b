package io.tinyptq.deploy.c;

import io.tinyptq.api.TinyPtqException;
import io.tinyptq.api.integer.FixedPoint;
import io.tinyptq.api.integer.IntegerModel;
import io.tinyptq.api.options.Option;
import io.tinyptq.api.spi.CodeGenerator;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code c} code generator: a fully-integer model as a self-contained C99 project ({@link ModelSource} for the
 * model, the runtime and harness from this module's resources), built with {@code make host} (the host's C
 * compiler) or {@code make cortex-m4} and run.
 */
public final class CCodeGenerator implements CodeGenerator<CCodeGenerator.Options> {
    /** The host build's compiler flags unless options say otherwise. */
    public static final String HOST_CFLAGS = "-std=c99 -O2 -Wall -Wextra -Werror";

    /**
     * @param hostCflags the C compiler flags of {@code make host} (e.g. add {@code -fsanitize=address,undefined});
     *                   read by {@link #build}
     * @param rounding   how the generated code's fixed-point requantization rounds; read by {@link #generate}.
     *                   {@code single} (the default) computes what the float simulation computes, up to float32
     *                   near-ties; {@code double} what TFLite Micro's default build computes, which costs accuracy
     *                   at 4 bits and below (docs/results/studies/2026-12-c-deploy.md)
     */
    public record Options(
            @Option(description = "C compiler flags of the host build", pattern = "[-A-Za-z0-9_=,.+ ]*")
            String hostCflags,

            @Option(
                    description = "fixed-point requantization: single (round once: what the simulation computes;"
                            + " TFLite's TFLITE_SINGLE_ROUNDING) or double (TFLite Micro's default)")
            FixedPoint.Rounding rounding) {
        public Options {
            if (rounding == null) {
                throw new IllegalArgumentException("rounding: expected single or double, found none");
            }
        }

        /** The integer runtime's {@code arithmetic} that computes what this rounding generates. */
        String arithmetic() {
            return rounding == FixedPoint.Rounding.SINGLE ? "tflite_single_rounding" : "tflite_reference";
        }
    }

    /** The generated header saying how the runtime computes ({@code TINYPTQ_SINGLE_ROUNDING}). */
    static final String CONFIG = "tinyptq_config.h";

    /** The fixed files every project holds, copied from {@code runtime/} in this module's resources. */
    static final List<String> RUNTIME_FILES = List.of(
            "tinyptq_rt.h",
            "tinyptq_rt.c",
            "main.c",
            "tinyptq_platform.h",
            "platform_host.c",
            "Makefile",
            "platform_cortex_m4.c",
            "startup_cortex_m4.c",
            "cortex_m4.ld");

    @Override
    public String name() {
        return "c";
    }

    @Override
    public String description() {
        return "C99 project: packed 2..8-bit weights and activations, one planned arena, host or Cortex-M4";
    }

    @Override
    public Class<Options> optionsType() {
        return Options.class;
    }

    @Override
    public Options defaultOptions() {
        return new Options(HOST_CFLAGS, FixedPoint.Rounding.SINGLE);
    }

    @Override
    public List<String> platforms() {
        return List.of("host", "cortex-m4");
    }

    @Override
    public GeneratedCode generate(IntegerModel model, Path dir, Options options) {
        ModelSource src = new ModelSource(model);
        try {
            Files.createDirectories(dir);
            write(dir.resolve("model.h"), src.header());
            write(dir.resolve("model.c"), src.source());
            write(
                    dir.resolve(CONFIG),
                    "/* Written by tinyptq: how this project's runtime computes. */\n"
                            + "#ifndef TINYPTQ_CONFIG_H\n#define TINYPTQ_CONFIG_H\n"
                            + "/* 1: fixed-point requantization rounds once (tflite_single_rounding), 0: twice"
                            + " (tflite_reference) */\n#define TINYPTQ_SINGLE_ROUNDING "
                            + (options.rounding() == FixedPoint.Rounding.SINGLE ? 1 : 0) + "\n#endif\n");
            for (String f : RUNTIME_FILES) {
                try (InputStream in = CCodeGenerator.class.getResourceAsStream("runtime/" + f)) {
                    if (in == null) {
                        throw new IllegalStateException("runtime file " + f + " missing from the deploy-c module");
                    }
                    write(dir.resolve(f), new String(in.readAllBytes(), StandardCharsets.UTF_8));
                }
            }
            GeneratedCode code = layout(src);
            write(dir.resolve("manifest.json"), Manifest.json(model, src, code, options.arithmetic()));
            return code;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the C project in " + dir, e);
        }
    }

    @Override
    public GeneratedCode layout(IntegerModel model, Options options) {
        return layout(new ModelSource(model));
    }

    private static GeneratedCode layout(ModelSource src) {
        return new GeneratedCode(src.constantBytes(), src.plan().arenaBytes(), bits(src));
    }

    private static Map<String, Integer> bits(ModelSource src) {
        Map<String, Integer> bits = new LinkedHashMap<>();
        src.storage().forEach((t, s) -> bits.put(t, s.bits()));
        bits.putAll(src.weightBits());
        return bits;
    }

    /** Writes {@code text} to {@code file} through a temporary file moved into place. */
    static void write(Path file, String text) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, text, StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    @Override
    public List<String> runtimeOptions(Path dir) {
        Path manifest = dir.resolve("manifest.json");
        String text;
        try {
            text = Files.readString(manifest);
        } catch (IOException e) {
            throw new TinyPtqException(
                    "cannot read " + manifest + " (written by export --format c): " + e.getMessage(), e);
        }
        Matcher m = ARITHMETIC.matcher(text);
        if (!m.find()) {
            throw new TinyPtqException(manifest + ": no \"arithmetic\" of tflite_reference or tflite_single_rounding");
        }
        return List.of("arithmetic=" + m.group(1));
    }

    private static final Pattern ARITHMETIC =
            Pattern.compile("\"arithmetic\":\\s*\"(tflite_reference|tflite_single_rounding)\"");

    @Override
    public Program build(Path dir, String platform, Options options) {
        return switch (platform) {
            case "host" ->
                HostProgram.build(
                        dir,
                        List.of("HOST_CFLAGS=" + (options.hostCflags() == null ? HOST_CFLAGS : options.hostCflags())));
            case "cortex-m4" -> {
                Path elf = QemuCortexM4.build(dir);
                yield new Program() {
                    @Override
                    public Run run(byte[] inputs, int samples) {
                        return QemuCortexM4.run(elf, inputs, Duration.ofSeconds(600 + samples));
                    }

                    @Override
                    public Map<String, Long> sizes() {
                        return QemuCortexM4.sizes(elf);
                    }
                };
            }
            default ->
                throw new TinyPtqException("no platform '" + platform + "' for code generator 'c'; known: "
                        + String.join(", ", platforms()));
        };
    }
}
