package io.tinyptq.cli;

import io.tinyptq.api.TinyPtqException;
import io.tinyptq.api.integer.ElementType;
import io.tinyptq.api.integer.IntegerModel;
import io.tinyptq.api.model.BatchNormFolding;
import io.tinyptq.api.model.Model;
import io.tinyptq.api.model.Op;
import io.tinyptq.api.quant.QuantTarget;
import io.tinyptq.api.spi.CodeGenerator;
import io.tinyptq.api.spi.ModelFormat;
import io.tinyptq.api.spi.Plugin;
import io.tinyptq.api.spi.PluginKind;
import io.tinyptq.kernel.Kernel;
import io.tinyptq.kernel.data.ModelFiles;
import io.tinyptq.kernel.deploy.TfliteLowering;
import io.tinyptq.kernel.options.KeyValueOptions;
import io.tinyptq.kernel.registry.PluginRegistry;
import io.tinyptq.kernel.stats.IntegerStats;
import io.tinyptq.kernel.stats.ModelStats;
import io.tinyptq.kernel.store.QuantizedModelStore;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code tinyptq export}: write a model in a file format (TFLite) through that format's plugin. */
@Command(
        name = "export",
        mixinStandardHelpOptions = true,
        description = "Write a model in a file format, e.g. a float32 TFLite flatbuffer: any model the other commands"
                + " load (a .tflite file, or a directory written by train or run --out; of a quantized run its float"
                + " model). A fully-integer file (an int8 .tflite) is written as a fully-integer model, and so is a"
                + " model quantized under target tflite (--format tflite-int8, its default): int8 activations,"
                + " per-channel int8 or packed int4 weights, int32 biases. Prints the layers, parameters and bytes"
                + " written.")
final class ExportCommand implements Callable<Integer> {
    private final Supplier<Kernel> kernel;

    @Spec
    CommandSpec spec;

    @Parameters(
            paramLabel = "MODEL",
            description = "the model file (.tflite), or a directory written by train or run --out")
    Path model;

    @Option(
            names = {"-o", "--out"},
            required = true,
            paramLabel = "FILE",
            description = "the file to write")
    Path out;

    @Option(
            names = "--format",
            paramLabel = "NAME",
            description = "the format to write (default: the one that claims FILE's extension, .tflite: tflite; c: a C"
                    + " project in the folder -o, see verify);"
                    + " tflite-int8: the fully-integer TFLite model of a run quantized under target tflite")
    String format;

    @Option(
            names = "--io",
            paramLabel = "int8|float",
            defaultValue = "int8",
            description = "fully-integer export: the model input and output as int8 (default) or as float32 with"
                    + " QUANTIZE/DEQUANTIZE at the boundary (the converter's inference_input_type)")
    String boundary;

    @Option(
            names = "--unpacked-int4",
            description = "fully-integer export: weights of 4 bits or fewer as int8 tensors"
                    + " holding the 4-bit values instead of packed INT4 (twice the bytes; LiteRT then runs every convolution"
                    + " in its int8 path, bit-identical to tinyptq's integer runtime in XNNPACK's arithmetic)")
    boolean unpackedInt4;

    @Option(
            names = "--codegen-option",
            paramLabel = "KEY=VALUE",
            description = "an option of the code generator"
                    + " (--format c: rounding=single|double, how the fixed-point requantization rounds: once, as the"
                    + " simulation (default), or twice, as TFLite Micro); repeatable")
    List<String> codegenOptions = new ArrayList<>();

    /** The file in a generated project that names the model it was generated from (read by {@code verify}). */
    static final String SOURCE_FILE = "tinyptq-source.txt";

    /**
     * {@code --format c} (any code generator): the integer model of a run quantized under target tflite, or of a
     * fully-integer file, written as a project into the folder {@code -o}.
     */
    private int exportCode(PluginRegistry registry, PrintWriter o) throws IOException {
        IntegerModel im = integerModel(registry, model, "--format " + format);
        CodeGenerator<Record> g = codeGenerator(registry, format);
        Record options = codegenOptions.isEmpty()
                ? g.defaultOptions()
                : KeyValueOptions.bind(g, codegenOptions, "--codegen-option");
        CodeGenerator.GeneratedCode code = g.generate(im, out, options);
        Files.writeString(out.resolve(SOURCE_FILE), model.toAbsolutePath().normalize() + "\n");
        Map<Integer, Integer> bits = new TreeMap<>();
        code.tensorBits().values().forEach(b -> bits.merge(b, 1, Integer::sum));
        o.printf(
                Locale.ROOT,
                "wrote %s (%s): %d ops, %,d bytes of constants, a %,d-byte arena; tensors by bits %s%n",
                out,
                format,
                im.graph().ops().size(),
                code.flashBytes(),
                code.arenaBytes(),
                bits);
        o.printf("build: make -C %s host (or cortex-m4); check: tinyptq verify %s --data DATASET%n", out, out);
        return 0;
    }

    /** The integer model of a run quantized under target tflite, or of a fully-integer model file. */
    static IntegerModel integerModel(PluginRegistry registry, Path model, String what) {
        if (ModelFiles.isInteger(registry, model)) {
            return ModelFiles.readInteger(registry, model);
        }
        QuantizedModelStore.Stored stored = ModelFiles.readWithQuantizers(registry, model);
        if (stored.quantized() == null || stored.quantized().scheme().target() != QuantTarget.TFLITE) {
            throw new TinyPtqException(model + " holds a "
                    + (stored.quantized() == null ? "float model" : "model" + " quantized for target simulated") + "; "
                    + what + " needs integer-exact weights: run a recipe"
                    + " with --set quantization.target=tflite --out DIR, then use DIR/model");
        }
        return TfliteLowering.lower(stored.quantized(), false);
    }

    @SuppressWarnings("unchecked")
    static CodeGenerator<Record> codeGenerator(PluginRegistry registry, String name) {
        return registry.find(PluginKind.CODEGEN, name, CodeGenerator.class);
    }

    /** The format name that writes a quantized run as a fully-integer TFLite file. */
    static final String TFLITE_INT8 = "tflite-int8";

    ExportCommand(Supplier<Kernel> kernel) {
        this.kernel = kernel;
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter o = spec.commandLine().getOut();
        Defaults.outFile("-o", out);
        PluginRegistry registry = kernel.get().registry();
        if (!boundary.equals("int8") && !boundary.equals("float")) {
            throw new TinyPtqException("--io: int8 or float expected, got '" + boundary + "'");
        }
        if (format != null && registry.names(PluginKind.CODEGEN).contains(format)) {
            return exportCode(registry, o);
        }
        if (!codegenOptions.isEmpty()) {
            throw new TinyPtqException("--codegen-option applies to code generators (--format "
                    + String.join(" or ", registry.names(PluginKind.CODEGEN)) + ")");
        }
        boolean int8 = TFLITE_INT8.equals(format);
        ModelFormat<?> f = format == null ? byExtension(registry, out) : byName(registry, int8 ? "tflite" : format);
        if (ModelFiles.isInteger(registry, model)) {
            return exportInteger(f, ModelFiles.readInteger(registry, model), o);
        }
        QuantizedModelStore.Stored stored = ModelFiles.readWithQuantizers(registry, model);
        Model m = stored.model();
        boolean tfliteTarget =
                stored.quantized() != null && stored.quantized().scheme().target() == QuantTarget.TFLITE;
        if (int8 || format == null && tfliteTarget && f.name().equals("tflite")) {
            if (stored.quantized() == null) {
                throw new TinyPtqException(model + " holds a float model; --format " + TFLITE_INT8 + " writes a model"
                        + " quantized under target tflite: run a recipe on it with --set quantization.target=tflite"
                        + " --out DIR, then export DIR/model");
            }
            if (!int8) {
                spec.commandLine()
                        .getErr()
                        .println("note: " + model + " was quantized for target tflite: writing"
                                + " its fully-integer model (--format tflite writes its float model)");
            }
            return exportInteger(
                    f, TfliteLowering.lower(stored.quantized(), boundary.equals("float"), !unpackedInt4), o);
        }
        if (boundary.equals("float")) {
            throw new TinyPtqException("--io float applies to fully-integer exports (--format " + TFLITE_INT8 + ")");
        }
        if (stored.quantized() != null) {
            spec.commandLine()
                    .getErr()
                    .println("note: " + model + " holds a quantized model; its float model is"
                            + " written (the quantizers are not part of the file)");
        }
        // Files hold deployment graphs: BatchNorm folds into the layer before it (the format would fold it too;
        // folding here makes the figures below describe what was written).
        Model unfolded = m;
        m = BatchNormFolding.fold(m);
        int folded = unfolded.ops().size() - m.ops().size();
        write(f, m);
        ModelStats s = ModelStats.of(m);
        Map<String, Integer> types = new LinkedHashMap<>();
        for (Op op : m.ops()) {
            types.merge(op.type(), 1, Integer::sum);
        }
        String byType = types.entrySet().stream()
                .map(e -> e.getKey() + (e.getValue() > 1 ? " x" + e.getValue() : ""))
                .collect(Collectors.joining(", "));
        o.printf(
                Locale.ROOT,
                "wrote %s (%s): %d layers (%s), %,d parameters, %,d bytes%s%n",
                out,
                f.name(),
                m.ops().size(),
                byType,
                s.params(),
                Files.size(out),
                folded > 0 ? "; " + folded + " BatchNorm layer(s) folded" : "");
        o.flush();
        return 0;
    }

    /**
     * A fully-integer file (e.g. an int8 TFLite file) written as a fully-integer model: the same integer tensors,
     * quantization and stored weights; prints what {@code info} counts of it.
     */
    private Integer exportInteger(ModelFormat<?> f, IntegerModel m, PrintWriter o) throws Exception {
        for (Op op : m.graph().ops()) {
            if (op instanceof Op.DepthwiseConv2D d
                    && m.quant(d.weight()).type() == ElementType.INT4
                    && f.name().equals("tflite")) {
                spec.commandLine()
                        .getErr()
                        .println("note: layer '" + d.name() + "' has INT4 weights; TFLite's"
                                + " DEPTHWISE_CONV_2D is written with INT8 weights holding the 4-bit values");
            }
        }
        writeInteger(f, m);
        Map<String, Integer> types = new LinkedHashMap<>();
        for (Op op : m.graph().ops()) {
            types.merge(op.type(), 1, Integer::sum);
        }
        String byType = types.entrySet().stream()
                .map(e -> e.getKey() + (e.getValue() > 1 ? " x" + e.getValue() : ""))
                .collect(Collectors.joining(", "));
        // The figures describe the file as written (INT4 depthwise weights take a byte each there).
        IntegerStats s = IntegerStats.of(readBack(f, m));
        o.printf(
                Locale.ROOT,
                "wrote %s (%s, fully-integer): %d layers (%s), weights %,d bytes, biases %,d bytes," + " %,d bytes%n",
                out,
                f.name(),
                m.graph().ops().size(),
                byType,
                s.weightBytes(),
                s.biasBytes(),
                Files.size(out));
        o.flush();
        return 0;
    }

    private <O extends Record> IntegerModel readBack(ModelFormat<O> f, IntegerModel written) {
        try {
            return f.readInteger(out, f.defaultOptions());
        } catch (UnsupportedOperationException e) {
            return written;
        }
    }

    private <O extends Record> void writeInteger(ModelFormat<O> f, IntegerModel m) {
        try {
            f.writeInteger(m, out, f.defaultOptions());
        } catch (UnsupportedOperationException e) {
            throw new TinyPtqException(model + " is written as a fully-integer model and model format '" + f.name()
                    + "' cannot write integer models: " + e.getMessage());
        }
    }

    private <O extends Record> void write(ModelFormat<O> f, Model m) {
        try {
            f.write(m, out, f.defaultOptions());
        } catch (UnsupportedOperationException e) {
            throw new TinyPtqException("model format '" + f.name() + "' cannot write models: " + e.getMessage());
        }
    }

    private static ModelFormat<?> byName(PluginRegistry registry, String name) {
        for (Plugin<?> p : registry.plugins(PluginKind.FORMAT)) {
            if (p.name().equals(name)) {
                return (ModelFormat<?>) p;
            }
        }
        throw new TinyPtqException("no model format '" + name + "'; known formats: " + known(registry) + ", "
                + TFLITE_INT8 + " (a run quantized under target tflite as a fully-integer TFLite file)");
    }

    private static ModelFormat<?> byExtension(PluginRegistry registry, Path file) {
        try {
            return ModelFiles.formatFor(registry, file);
        } catch (TinyPtqException e) {
            // The reader's message speaks of reading; for writing, say how to name a format instead.
            String name = file.getFileName() == null ? "" : file.getFileName().toString();
            int dot = name.lastIndexOf('.');
            String ext = dot < 0 ? "" : name.substring(dot + 1).toLowerCase(Locale.ROOT);
            throw new TinyPtqException("no model format claims "
                    + (ext.isEmpty()
                            ? "'" + name + "', which has no" + " extension"
                            : "the extension ." + ext + " of '" + name + "'")
                    + "; name one with --format;"
                    + " known formats: " + known(registry));
        }
    }

    /** {@code tflite (.tflite), ...}: every format plugin with the extensions it claims. */
    private static String known(PluginRegistry registry) {
        List<String> known = new ArrayList<>();
        for (Plugin<?> p : registry.plugins(PluginKind.FORMAT)) {
            known.add(p.name()
                    + ((ModelFormat<?>) p)
                            .extensions().stream().map(e -> " (." + e + ")").collect(Collectors.joining()));
        }
        return known.isEmpty() ? "none (no format plugin found)" : String.join(", ", known);
    }
}
