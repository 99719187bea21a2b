package io.tinyptq.cli;

import io.tinyptq.api.TinyPtqException;
import io.tinyptq.api.integer.IntegerModel;
import io.tinyptq.api.model.Model;
import io.tinyptq.api.quant.QuantTarget;
import io.tinyptq.api.spi.ComputeBackend;
import io.tinyptq.api.spi.Dataset;
import io.tinyptq.api.spi.IntegerRuntime;
import io.tinyptq.api.spi.PluginKind;
import io.tinyptq.api.spi.StageContext;
import io.tinyptq.kernel.Kernel;
import io.tinyptq.kernel.data.DatasetDescriptors;
import io.tinyptq.kernel.data.ModelFiles;
import io.tinyptq.kernel.deploy.TfliteLowering;
import io.tinyptq.kernel.eval.Evaluation;
import io.tinyptq.kernel.eval.Evaluator;
import io.tinyptq.kernel.pipeline.BoundBackends;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code tinyptq eval}: top-1 accuracy of a float model on a dataset, per class and as a confusion matrix. */
@Command(
        name = "eval",
        mixinStandardHelpOptions = true,
        description = "Evaluate a model on a dataset: top-1 accuracy, per-class accuracy and the confusion"
                + " matrix, with a progress bar on stderr. A fully-integer model (an int8 .tflite file) runs through"
                + " an integer runtime.")
final class EvalCommand implements Callable<Integer> {
    private final Supplier<Kernel> kernel;

    @Spec
    CommandSpec spec;

    @Option(
            names = "--model",
            required = true,
            description = "the model file (.tflite), or a directory written by train or run --out")
    Path model;

    @Option(
            names = "--data",
            required = true,
            description = "dataset: a descriptor name in the datasets folder (cifar10-test, kws-test, vww01, ...) or a"
                    + " descriptor file")
    String data;

    @Option(names = "--data-root", description = "root of the data files (default: ../shared/data when present)")
    Path dataRoot;

    @Option(names = "--datasets", description = "folder of dataset descriptors (default: ./datasets)")
    Path datasets;

    @Option(names = "--limit", defaultValue = "0", description = "evaluate the first N samples only (0: all)")
    int limit;

    @Option(names = "--batch", defaultValue = "64", description = "samples per forward pass (default: 64)")
    int batch;

    @Option(names = "--backend", defaultValue = "cpu", description = "compute backend plugin (default: cpu)")
    String backend;

    @Option(
            names = "--runtime",
            defaultValue = Evaluator.DEFAULT_INTEGER_RUNTIME,
            description = "integer runtime plugin for fully-integer models (default: "
                    + Evaluator.DEFAULT_INTEGER_RUNTIME + ")")
    String runtime;

    @Option(
            names = "--runtime-option",
            paramLabel = "KEY=VALUE",
            description = "an option of the integer runtime,"
                    + " e.g. arithmetic=xnnpack softmax=lookup_table (LiteRT's arithmetic); repeatable")
    List<String> runtimeOptions = new ArrayList<>();

    @Option(
            names = "--simulated",
            description = "a run quantized under target tflite: evaluate its float"
                    + " simulation instead of its integer model")
    boolean simulated;

    @Option(names = "--json", description = "print the results as one JSON line")
    boolean json;

    @Option(names = "--no-progress", description = "no progress bar")
    boolean noProgress;

    EvalCommand(Supplier<Kernel> kernel) {
        this.kernel = kernel;
    }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Defaults.limit(limit);
        if (batch < 1) {
            throw new TinyPtqException("--batch is " + batch + "; expected a batch size >= 1");
        }
        Kernel k = kernel.get();
        Model m;
        Path descriptor;
        Dataset ds;
        Evaluation e;
        String engine;
        var stored =
                ModelFiles.isInteger(k.registry(), model) ? null : ModelFiles.readWithQuantizers(k.registry(), model);
        // A run quantized under target tflite is its integer model: evaluated as such, it gives what run reported.
        boolean lowered = stored != null
                && stored.quantized() != null
                && !simulated
                && stored.quantized().scheme().target() == QuantTarget.TFLITE;
        if (stored == null || lowered) {
            IntegerModel im = lowered
                    ? TfliteLowering.lower(stored.quantized(), false)
                    : ModelFiles.readInteger(k.registry(), model);
            m = im.graph();
            IntegerRuntime<?> rt = Evaluator.integerRuntime(k.registry(), runtime);
            descriptor = DatasetDescriptors.resolve(data, Defaults.datasets(datasets));
            ds = DatasetDescriptors.open(k.registry(), descriptor, Defaults.dataRoot(dataRoot));
            e = Evaluator.runInteger(rt, runtimeOptions, im, ds, batch, limit, new ConsoleProgress(err, !noProgress));
            String input = m.inputs().keySet().iterator().next();
            engine = "integer runtime '" + rt.name() + "'" + (runtimeOptions.isEmpty() ? "" : " " + runtimeOptions)
                    + (lowered
                            ? " (the int8 model of a run quantized for target tflite; input "
                            : " (fully-integer" + " model; input ")
                    + input + " quantized as "
                    + im.integerQuant(input) + ")";
        } else {
            m = stored.model();
            descriptor = DatasetDescriptors.resolve(data, Defaults.datasets(datasets));
            ds = DatasetDescriptors.open(k.registry(), descriptor, Defaults.dataRoot(dataRoot));
            ComputeBackend<?> plugin = k.registry().find(PluginKind.BACKEND, backend, ComputeBackend.class);
            StageContext.BoundBackend bound = BoundBackends.withDefaults(plugin);
            // A model stored by 'tinyptq run --out' carries its quantizers: evaluate it quantized, as the run did.
            e = Evaluator.run(bound, m, stored.quantized(), ds, batch, limit, new ConsoleProgress(err, !noProgress));
            var info = bound.info();
            engine = String.format("%s: %s, %d threads", info.backend(), info.device(), info.threads());
        }
        e.warning().ifPresent(err::println);
        if (json) {
            out.println(e.toJson());
            out.flush();
            return 0;
        }
        out.printf("model    %s (%s)%n", m.name(), model);
        out.printf(
                "data     %s (%s): %d of %d samples of %s, %d classes%n",
                ds.name(), descriptor, e.samples(), ds.size(), ds.sampleShape(), ds.numClasses());
        out.printf("backend  %s%n", engine);
        out.printf(
                Locale.ROOT,
                "top-1 accuracy %.2f %% (%d / %d) in %.2f s (%.0f samples/s)%n%n",
                e.accuracy(),
                e.correct(),
                e.samples(),
                e.seconds(),
                e.samples() / e.seconds());
        out.println("class  samples  accuracy");
        for (int c = 0; c < e.classes(); c++) {
            out.printf(
                    Locale.ROOT,
                    "%5d  %7d  %s%n",
                    c,
                    e.classSamples(c),
                    e.classSamples(c) == 0 ? "-" : String.format(Locale.ROOT, "%7.2f %%", e.classAccuracy(c)));
        }
        out.println();
        out.println("confusion matrix (rows: label, columns: prediction)");
        long max = 1;
        for (long[] row : e.confusion()) {
            for (long v : row) {
                max = Math.max(max, v);
            }
        }
        int w = Math.max(
                        String.valueOf(max).length(),
                        String.valueOf(e.classes() - 1).length())
                + 1;
        StringBuilder head = new StringBuilder(" ".repeat(6));
        for (int c = 0; c < e.classes(); c++) {
            head.append(String.format("%" + w + "d", c));
        }
        out.println(head);
        for (int r = 0; r < e.classes(); r++) {
            StringBuilder line = new StringBuilder(String.format("%5d ", r));
            for (long v : e.confusion()[r]) {
                line.append(String.format("%" + w + "d", v));
            }
            out.println(line);
        }
        out.flush();
        return 0;
    }
}
