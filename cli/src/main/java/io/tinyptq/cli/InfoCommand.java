package io.tinyptq.cli;

import io.tinyptq.api.integer.ElementType;
import io.tinyptq.api.integer.IntegerModel;
import io.tinyptq.api.model.Model;
import io.tinyptq.api.model.Op;
import io.tinyptq.api.model.Shape;
import io.tinyptq.api.model.Units;
import io.tinyptq.api.quant.QuantTarget;
import io.tinyptq.api.quant.QuantizedModel;
import io.tinyptq.api.quant.Quantizer;
import io.tinyptq.kernel.Kernel;
import io.tinyptq.kernel.data.ModelFiles;
import io.tinyptq.kernel.deploy.DeviceMemory;
import io.tinyptq.kernel.deploy.TfliteLowering;
import io.tinyptq.kernel.stats.IntegerStats;
import io.tinyptq.kernel.stats.LayerStats;
import io.tinyptq.kernel.stats.ModelStats;
import io.tinyptq.kernel.store.QuantizedModelStore;
import io.tinyptq.zoo.Zoo;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code tinyptq info}: a model's layers and its size and cost figures (see {@link ModelStats}). */
@Command(
        name = "info",
        mixinStandardHelpOptions = true,
        description = "Per-layer table (name, op, shapes, MACs, parameters, activation size) and totals: MACs, MACs"
                + " as the paper's Table 1 counts them, parameters, peak activation, and BOPs and peak memory at the"
                + " given bit-widths; for a fully-integer model (an int8 .tflite file) its real stored sizes in bytes.")
final class InfoCommand implements Callable<Integer> {
    private final Supplier<Kernel> kernel;

    @Spec
    CommandSpec spec;

    @Option(names = "--model", description = "the model file (.tflite), or a directory written by train or run --out")
    Path model;

    @Option(
            names = "--arch",
            description =
                    "a zoo architecture (toy-cnn, har-cnn, har-cnn-nobn) as defined in code," + " BatchNorm unfolded")
    String arch;

    @Option(
            names = "--wbits",
            description = "weight bit-width for BOPs and memory (default: a quantized model's, else" + " 8)")
    Integer wbits;

    @Option(
            names = "--abits",
            description = "activation bit-width for BOPs and memory (default: a quantized model's," + " else 8)")
    Integer abits;

    @Option(names = "--json", description = "print the figures as one JSON line")
    boolean json;

    @Option(
            names = "--blocks",
            description = "print the reconstruction units of block granularity (residual blocks,"
                    + " depthwise-separable pairs, single layers) instead of the layer table")
    boolean blocks;

    InfoCommand(Supplier<Kernel> kernel) {
        this.kernel = kernel;
    }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        if (wbits != null && (wbits < 1 || wbits > 32) || abits != null && (abits < 1 || abits > 32)) {
            spec.commandLine()
                    .getErr()
                    .println("error: --wbits and --abits must be within 1..32, got " + wbits + " and " + abits);
            return 2;
        }
        if ((model == null) == (arch == null)) {
            spec.commandLine().getErr().println("error: give either --model FILE or --arch NAME");
            return 2;
        }
        var registry = model != null ? kernel.get().registry() : null;
        IntegerModel integer =
                model != null && ModelFiles.isInteger(registry, model) ? ModelFiles.readInteger(registry, model) : null;
        QuantizedModelStore.Stored stored =
                model != null && integer == null ? ModelFiles.readWithQuantizers(registry, model) : null;
        Model m = integer != null ? integer.graph() : stored != null ? stored.model() : Zoo.build(arch, 0);
        IntegerStats sizes = integer != null ? IntegerStats.of(integer) : null;
        QuantizedModel quantized = stored != null ? stored.quantized() : null;
        int wbits = this.wbits != null
                ? this.wbits
                : quantized != null ? commonBits(quantized.weightQuantizers().values()) : 8;
        int abits = this.abits != null
                ? this.abits
                : quantized != null
                        ? commonBits(quantized.activationQuantizers().values())
                        : 8;
        // A device's memory as each code generator lays the integer model out: an integer file, or a run quantized
        // under target tflite (lowered without changing a value).
        IntegerModel deployable = integer != null
                ? integer
                : quantized != null && quantized.scheme().target() == QuantTarget.TFLITE
                        ? TfliteLowering.lower(quantized, false)
                        : null;
        List<DeviceMemory> devices = deployable != null ? DeviceMemory.of(registry, deployable) : List.of();
        if (blocks) {
            var units = Units.blocks(m);
            out.printf("%d reconstruction units of block granularity in %s:%n", units.size(), m.name());
            for (var u : units) {
                out.printf(
                        "  %-10s %-40s %s -> %s  layers: %s%n",
                        u.kind(),
                        u.name(),
                        u.input(),
                        u.output(),
                        u.layers().stream().map(Op::name).collect(Collectors.joining(", ")));
            }
            out.flush();
            return 0;
        }
        ModelStats s = ModelStats.of(m);
        if (json) {
            out.println(s.toJson(wbits, abits, sizes, devices));
            out.flush();
            return 0;
        }
        String input = m.inputs().entrySet().stream()
                .map(e -> e.getKey() + " " + e.getValue())
                .collect(Collectors.joining(", "));
        String output = m.outputs().stream().map(o -> o + " " + m.shape(o)).collect(Collectors.joining(", "));
        out.printf(
                "model %s (%s): %d layers; input %s; output %s%n%n",
                m.name(),
                model != null ? model : "zoo architecture, weights of seed 0",
                m.ops().size(),
                input,
                output);
        int nameWidth = Math.max(
                5, s.layers().stream().mapToInt(l -> l.name().length()).max().orElse(5));
        int opWidth = Math.max(
                2, s.layers().stream().mapToInt(l -> l.type().length()).max().orElse(2));
        String row = "%-" + nameWidth + "s  %-" + opWidth + "s  %-22s  %-14s  %13s  %9s  %10s%n";
        out.printf(row, "layer", "op", "input", "output", "MACs", "params", "activation");
        for (LayerStats l : s.layers()) {
            String in = l.inputs().stream().map(Shape::toString).collect(Collectors.joining(" "));
            out.printf(row, l.name(), l.type(), in, l.output(), n(l.macs()), n(l.params()), n(l.activation()));
        }
        out.println();
        out.printf("MACs                        %,15d%n", s.macs());
        out.printf(
                Locale.ROOT,
                "MACs, Table 1 convention    %,15d   (+ one bias add per convolution output element,"
                        + " + average-pool input and output elements)%n",
                s.macsTable1());
        out.printf(Locale.ROOT, "parameters                  %,15d%n", s.params());
        out.printf(
                Locale.ROOT,
                "peak activation             %,15d   elements, while '%s' runs (every tensor live from"
                        + " its producer to its last reader)%n",
                s.peakActivation(),
                s.peakOp());
        out.printf(
                Locale.ROOT,
                "BOPs at W%dA%d                %,15d   (MACs x %d x %d)%n",
                wbits,
                abits,
                s.bops(wbits, abits),
                wbits,
                abits);
        if (sizes != null) {
            // A fully-integer file: its real storage, not an estimate at uniform bit-widths.
            out.printf(Locale.ROOT, "fully-integer model, stored sizes:%n");
            out.printf(
                    Locale.ROOT,
                    "  weights                   %,15d   bytes (%s)%n",
                    sizes.weightBytes(),
                    types(sizes.weightElements()));
            out.printf(
                    Locale.ROOT,
                    "  biases                    %,15d   bytes (%s)%n",
                    sizes.biasBytes(),
                    types(sizes.biasElements()));
            if (sizes.otherBytes() > 0) {
                out.printf(Locale.ROOT, "  other constants           %,15d   bytes%n", sizes.otherBytes());
            }
            out.printf(
                    Locale.ROOT,
                    "  parameters                %,15d   bytes = %.1f KiB%n",
                    sizes.parameterBytes(),
                    sizes.parameterBytes() / 1024.0);
            out.printf(
                    Locale.ROOT,
                    "  peak activation           %,15d   bytes (each tensor at its integer type)%n",
                    sizes.peakActivationBytes());
            out.printf(
                    Locale.ROOT,
                    "  peak memory               %,15d   bytes = %.1f KiB (parameters + peak" + " activation)%n",
                    sizes.peakMemoryBytes(),
                    sizes.peakMemoryBytes() / 1024.0);
        } else {
            long bits = s.peakMemoryBits(wbits, abits);
            out.printf(
                    Locale.ROOT,
                    "peak memory at W%dA%d         %,15d   bits = %.1f KiB (parameters x %d + peak"
                            + " activation x %d)%n",
                    wbits,
                    abits,
                    bits,
                    bits / 8.0 / 1024,
                    wbits,
                    abits);
        }
        long estimate = s.peakMemoryBits(wbits, abits);
        for (DeviceMemory d : devices) {
            out.printf(Locale.ROOT, "on a device, %s%n", d.line(sizes != null ? 0 : estimate));
        }
        out.flush();
        return 0;
    }

    /**
     * The bit-width most of {@code quantizers} have (ties to the wider): a stored model's W and A for the estimate,
     * which the 8-bit model input and softmax output do not change.
     */
    static int commonBits(Collection<Quantizer> quantizers) {
        int[] count = new int[33];
        quantizers.forEach(q -> count[q.spec().bits()]++);
        int best = 8;
        for (int b = 1; b <= 32; b++) {
            if (count[b] > 0 && count[b] >= count[best]) {
                best = b;
            }
        }
        return best;
    }

    /** {@code 77,306 INT8 + 400 INT4} values per stored type. */
    private static String types(Map<ElementType, Long> elements) {
        if (elements.isEmpty()) {
            return "none";
        }
        return elements.entrySet().stream()
                .sorted(Map.Entry.comparingByKey())
                .map(e -> String.format(Locale.ROOT, "%,d %s", e.getValue(), e.getKey()))
                .collect(Collectors.joining(" + "));
    }

    private static String n(long v) {
        return v == 0 ? "-" : String.format(Locale.ROOT, "%,d", v);
    }
}
