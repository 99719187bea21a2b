package io.tinyptq.cli;

import io.tinyptq.api.TinyPtqException;
import io.tinyptq.api.spi.PluginKind;
import io.tinyptq.kernel.Kernel;
import io.tinyptq.kernel.pipeline.CancellationToken;
import io.tinyptq.kernel.pipeline.RunOptions;
import io.tinyptq.kernel.recipe.Recipe;
import io.tinyptq.kernel.recipe.RecipeOverrides;
import io.tinyptq.kernel.run.PtqRun;
import io.tinyptq.kernel.run.RunReport;
import io.tinyptq.kernel.run.RunRequest;
import io.tinyptq.recipes.BundledRecipes;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code tinyptq run}: one PTQ pipeline on a model and dataset, with a report. */
@Command(
        name = "run",
        mixinStandardHelpOptions = true,
        description = "Quantize a model with a recipe: calibrate, run the four stages, evaluate FP and quantized,"
                + " and report accuracy, BOPs, memory and time per stage.")
final class RunCommand implements Callable<Integer> {
    private final Supplier<Kernel> kernel;

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "RECIPE", description = "a recipe file, or a bundled recipe name (see 'recipe list')")
    String recipe;

    @Option(names = "--model", required = true, description = "the float model file (.tflite)")
    Path model;

    @Option(names = "--data", required = true, description = "evaluation dataset: descriptor name or file")
    String data;

    @Option(
            names = "--calib-data",
            description = "calibration dataset; default: drawn from --data and kept out of" + " its evaluation")
    String calibData;

    @Option(names = "--calib", description = "calibration samples (overrides calibration.size)")
    Integer calib;

    @Option(names = "--wbits", description = "weight bit-width (overrides quantization.weight_bits)")
    Integer wbits;

    @Option(names = "--abits", description = "activation bit-width (overrides quantization.activation_bits)")
    Integer abits;

    @Option(names = "--seed", description = "run seed (overrides seed)")
    Long seed;

    @Option(
            names = "--backend",
            paramLabel = "NAME[:DEVICE]",
            description = "compute backend (replaces the recipe's):"
                    + " cpu, or tornado with an optional TornadoVM device as backend:device, e.g. tornado:0:1; what tornado"
                    + " cannot start or run goes to cpu, with a line saying why")
    String backend;

    @Option(
            names = "--set",
            paramLabel = "KEY=VALUE",
            description = "override any recipe key, e.g."
                    + " optimize.round.iterations=500, init.weights.candidates=200, backend.threads=1")
    List<String> sets = new ArrayList<>();

    @Option(names = "--data-root", description = "root of the data files (default: ../shared/data when present)")
    Path dataRoot;

    @Option(names = "--datasets", description = "folder of dataset descriptors (default: ./datasets)")
    Path datasets;

    @Option(names = "--limit", description = "evaluate at most this many samples (0: all)", defaultValue = "0")
    int limit;

    @Option(names = "--out", description = "directory for report, encodings, quantized model and provenance")
    Path out;

    @Option(names = "--json", description = "print the report as one JSON line")
    boolean json;

    RunCommand(Supplier<Kernel> kernel) {
        this.kernel = kernel;
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter o = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Defaults.limit(limit);
        Defaults.outFolder("--out", out);
        Kernel k = kernel.get();
        // A name ending in .yaml is a file, there or not (bundled names have no extension).
        boolean file = Files.isRegularFile(Path.of(recipe)) || recipe.endsWith(".yaml") || recipe.endsWith(".yml");
        Recipe r = file
                ? k.recipes().load(Path.of(recipe))
                : k.recipes().load(BundledRecipes.yaml(recipe), "bundled:" + recipe);
        List<String> overrides = new ArrayList<>();
        if (wbits != null) {
            overrides.add("quantization.weight_bits=" + wbits);
        }
        if (abits != null) {
            overrides.add("quantization.activation_bits=" + abits);
        }
        if (calib != null) {
            overrides.add("calibration.size=" + calib);
        }
        if (seed != null) {
            overrides.add("seed=" + seed);
        }
        if (backend != null) {
            int colon = backend.indexOf(':');
            String name = colon < 0 ? backend : backend.substring(0, colon);
            if (name.equals("tornado")
                    && !k.registry().names(PluginKind.BACKEND).contains(name)) {
                // An accelerator that is not there is a fallback like any other: say why and go on on the cpu.
                err.println("backend tornado is not installed in this tinyptq, running on cpu instead: start"
                        + " bin/tinyptq with TORNADO_SDK set to a TornadoVM SDK, after ./mvnw install -DskipTests"
                        + " -Dtornado.sdk=$TORNADO_SDK (README, GPU and FPGA)");
                overrides.add("backend=cpu");
            } else {
                overrides.add("backend=" + name);
                if (colon >= 0) {
                    overrides.add("backend.device=" + backend.substring(colon + 1));
                }
            }
        }
        overrides.addAll(sets);
        r = RecipeOverrides.apply(r, overrides, k.recipes());
        if (out != null) {
            // Checked before any work: results that cannot be written would be lost at the end of a long run.
            try {
                Files.createDirectories(out);
            } catch (IOException | UnsupportedOperationException e) {
                throw new TinyPtqException("--out " + out + ": cannot be a results folder ("
                        + (Files.exists(out) ? "it is a file" : e.getClass().getSimpleName() + ": " + e.getMessage())
                        + ")");
            }
        }
        CancellationToken cancel = new CancellationToken();
        Thread hook = new Thread(() -> cancel.cancel("interrupted (Ctrl-C)"));
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            RunReport report = new PtqRun(k.registry(), k.runner())
                    .run(
                            new RunRequest(
                                    r,
                                    model,
                                    data,
                                    calibData,
                                    Defaults.dataRoot(dataRoot),
                                    Defaults.datasets(datasets),
                                    out,
                                    limit),
                            new RunOptions(new ConsoleProgress(err, !json), cancel, null));
            if (json) {
                o.println(PtqRun.jsonLine(report));
            } else {
                o.print(report.text());
                if (out != null) {
                    o.println("results in " + out
                            + " (report.txt, report.json, encodings.json, model/, provenance.yaml)");
                }
            }
            o.flush();
            return 0;
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // The JVM is already exiting (Ctrl-C): the hook has run and cancelled the pipeline.
            }
        }
    }
}
