package io.tinyptq.cli;

import io.tinyptq.api.TinyPtqException;
import io.tinyptq.api.integer.IntegerModel;
import io.tinyptq.api.spi.CodeGenerator;
import io.tinyptq.api.spi.Dataset;
import io.tinyptq.api.spi.IntegerRuntime;
import io.tinyptq.kernel.Kernel;
import io.tinyptq.kernel.data.DatasetDescriptors;
import io.tinyptq.kernel.deploy.DeviceCheck;
import io.tinyptq.kernel.eval.Evaluator;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code tinyptq verify}: builds a generated C project, runs it on samples, compares it with the interpreter. */
@Command(
        name = "verify",
        mixinStandardHelpOptions = true,
        description = "Build a project written by export --format c for the host (gcc) or a Cortex-M4"
                + " (arm-none-eabi-gcc, run under qemu-system-arm), run it on a dataset and compare every output with"
                + " the integer runtime: identical outputs, largest difference, accuracy, and on the Cortex-M4 the"
                + " flash and RAM of the binary and the instructions per inference.")
final class VerifyCommand implements Callable<Integer> {
    private final Supplier<Kernel> kernel;

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "PROJECT", description = "the folder export --format c wrote")
    Path project;

    @Option(names = "--data", required = true, description = "dataset: a descriptor name (cifar10-test, ...) or file")
    String data;

    @Option(names = "--data-root", description = "root of the data files (default: ../shared/data when present)")
    Path dataRoot;

    @Option(names = "--datasets", description = "folder of dataset descriptors (default: ./datasets)")
    Path datasets;

    @Option(
            names = "--model",
            description =
                    "the model the project was generated from (default: the one export" + " recorded in the project)")
    Path model;

    @Option(names = "--limit", defaultValue = "0", description = "the first N samples only (0: all)")
    int limit;

    @Option(names = "--target", defaultValue = "host", description = "host or cortex-m4 (default: host)")
    String target;

    @Option(names = "--generator", defaultValue = "c", description = "the code generator that wrote the project")
    String generator;

    @Option(names = "--json", description = "print the results as one JSON line")
    boolean json;

    @Option(names = "--no-progress", description = "no progress bar")
    boolean noProgress;

    VerifyCommand(Supplier<Kernel> kernel) {
        this.kernel = kernel;
    }

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        Defaults.limit(limit);
        Kernel k = kernel.get();
        Path source = model != null ? model : recordedModel();
        IntegerModel im = ExportCommand.integerModel(k.registry(), source, "verify");
        CodeGenerator<Record> g = ExportCommand.codeGenerator(k.registry(), generator);
        if (!g.platforms().contains(target)) {
            throw new TinyPtqException(
                    "--target: " + String.join(" or ", g.platforms()) + " expected, got '" + target + "'");
        }
        Dataset ds = DatasetDescriptors.open(
                k.registry(),
                DatasetDescriptors.resolve(data, Defaults.datasets(datasets)),
                Defaults.dataRoot(dataRoot));
        CodeGenerator.Program program = g.build(project, target, g.defaultOptions());
        IntegerRuntime<?> rt = Evaluator.integerRuntime(k.registry(), null);
        long t0 = System.nanoTime();
        // The oracle computes in the arithmetic the project was generated for (its manifest says which).
        DeviceCheck c = DeviceCheck.run(
                program,
                rt,
                g.runtimeOptions(project),
                im,
                ds,
                limit,
                new ConsoleProgress(spec.commandLine().getErr(), !noProgress));
        double seconds = (System.nanoTime() - t0) / 1e9;
        Map<String, Long> sizes = program.sizes();
        if (json) {
            out.printf(
                    Locale.ROOT,
                    "{\"project\": \"%s\", \"target\": \"%s\", \"samples\": %d, \"identical_samples\":"
                            + " %d, \"values\": %d, \"identical_values\": %d, \"max_difference\": %d, \"accuracy\": %.4f,"
                            + " \"runtime_accuracy\": %.4f, \"instructions_per_inference\": %.1f, \"flash_bytes\": %d,"
                            + " \"ram_bytes\": %d, \"seconds\": %.2f}%n",
                    project.toString().replace("\\", "\\\\").replace("\"", "\\\""),
                    target,
                    c.samples(),
                    c.identicalSamples(),
                    c.values(),
                    c.identicalValues(),
                    c.maxDifference(),
                    c.accuracy(),
                    c.runtimeAccuracy(),
                    c.meanInstructions(),
                    sizes.getOrDefault("flash_bytes", -1L),
                    sizes.getOrDefault("ram_bytes", -1L),
                    seconds);
        } else {
            out.printf("project  %s (%s, built for %s)%n", project, source, target);
            out.printf("data     %s%n", ds.name());
            out.println(c.summary());
            if (!sizes.isEmpty()) {
                out.printf(
                        Locale.ROOT,
                        "binary   %,d bytes of flash (code, constants), %,d bytes of RAM (.data, .bss with the arena;"
                                + " the stack comes on top)%n",
                        sizes.get("flash_bytes"),
                        sizes.get("ram_bytes"));
            }
        }
        out.flush();
        return c.identicalSamples() == c.samples() ? 0 : 1;
    }

    private Path recordedModel() throws IOException {
        Path f = project.resolve(ExportCommand.SOURCE_FILE);
        if (!Files.isRegularFile(f)) {
            throw new TinyPtqException(project + " has no " + ExportCommand.SOURCE_FILE + " (written by export"
                    + " --format c): name the model with --model");
        }
        return Path.of(Files.readString(f).strip());
    }
}
