package io.tinyptq.cli;

import io.tinyptq.api.model.BatchNormFolding;
import io.tinyptq.api.model.Model;
import io.tinyptq.api.spi.ComputeBackend;
import io.tinyptq.api.spi.Dataset;
import io.tinyptq.api.spi.PluginKind;
import io.tinyptq.kernel.Kernel;
import io.tinyptq.kernel.pipeline.BoundBackends;
import io.tinyptq.kernel.pipeline.CancellationToken;
import io.tinyptq.kernel.store.QuantizedModelStore;
import io.tinyptq.kernel.train.Trainer;
import io.tinyptq.zoo.Zoo;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code tinyptq train}: train a zoo architecture from scratch on a dataset and store the float model. */
@Command(
        name = "train",
        mixinStandardHelpOptions = true,
        description = "Train a zoo architecture (${COMPLETION-CANDIDATES}) from scratch with Adam, seeded mini-batches,"
                + " cosine learning-rate decay and early stopping; store it for 'run' and 'eval'.")
final class TrainCommand implements Callable<Integer> {
    private final Supplier<Kernel> kernel;

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "ARCH", description = "architecture: toy-cnn, har-cnn, har-cnn-nobn")
    String arch;

    @Option(names = "--data", required = true, description = "training dataset: descriptor name or file")
    String data;

    @Option(names = "--eval", description = "dataset to report the final accuracy on")
    String eval;

    @Option(names = "--epochs", defaultValue = "10", description = "maximum epochs (default ${DEFAULT-VALUE})")
    int epochs;

    @Option(
            names = "--lr",
            defaultValue = "0.003",
            description = "initial Adam learning rate (default ${DEFAULT-VALUE})")
    double lr;

    @Option(names = "--batch", defaultValue = "32", description = "mini-batch size (default ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--validation", defaultValue = "0.1", description = "fraction held out for early stopping")
    double validation;

    @Option(
            names = "--split",
            defaultValue = "auto",
            description = "validation split: group (whole groups, e.g."
                    + " HAR subjects), random, or auto (group when the dataset has groups; default)")
    String split;

    @Option(
            names = "--monitor",
            defaultValue = "loss",
            description = "what early stopping watches on the validation"
                    + " split: loss (cross-entropy; default) or accuracy")
    String monitor;

    @Option(
            names = "--patience",
            defaultValue = "3",
            description = "epochs without improvement of the monitored value before stopping")
    int patience;

    @Option(names = "--seed", defaultValue = "0", description = "seed of initialization, split and batches")
    long seed;

    @Option(names = "--out", required = true, description = "directory to store the trained float model in")
    Path out;

    @Option(
            names = "--json",
            description = "print the result as one JSON line (arch, seed, epochs, accuracies, seconds)")
    boolean json;

    @Option(names = "--data-root", description = "root of the data files (default: ../shared/data when present)")
    Path dataRoot;

    @Option(names = "--datasets", description = "folder of dataset descriptors (default: ./datasets)")
    Path datasets;

    TrainCommand(Supplier<Kernel> kernel) {
        this.kernel = kernel;
    }

    @Override
    public Integer call() {
        PrintWriter o = spec.commandLine().getOut();
        Defaults.outFolder("--out", out);
        Kernel k = kernel.get();
        Dataset train = Defaults.openDataset(k.registry(), data, datasets, dataRoot);
        ComputeBackend<?> cpu = k.registry().find(PluginKind.BACKEND, "cpu", ComputeBackend.class);
        var backend = BoundBackends.withDefaults(cpu);
        Trainer.Split how = switch (split) {
            case "auto" -> Trainer.Split.AUTO;
            case "group" -> Trainer.Split.GROUP;
            case "random" -> Trainer.Split.RANDOM;
            default ->
                throw new CommandLine.ParameterException(
                        spec.commandLine(), "--split must be auto," + " group or random, got '" + split + "'");
        };
        Trainer.Monitor watch = switch (monitor) {
            case "loss" -> Trainer.Monitor.LOSS;
            case "accuracy" -> Trainer.Monitor.ACCURACY;
            default ->
                throw new CommandLine.ParameterException(
                        spec.commandLine(), "--monitor must be loss or" + " accuracy, got '" + monitor + "'");
        };
        Trainer.Result r = Trainer.train(
                backend,
                Zoo.build(arch, seed),
                train,
                new Trainer.Settings(epochs, lr, batch, validation, patience, seed, how, watch),
                new ConsoleProgress(spec.commandLine().getErr(), true),
                new CancellationToken());
        // Stored models are deployment models: BatchNorm folds into the layers before it (BatchNormFolding).
        Model stored = BatchNormFolding.fold(r.model());
        int folded = r.model().ops().size() - stored.ops().size();
        QuantizedModelStore.save(stored, null, out);
        double testAccuracy = Double.NaN;
        String testName = "";
        if (eval != null) {
            Dataset test = Defaults.openDataset(k.registry(), eval, datasets, dataRoot);
            testAccuracy = Trainer.evaluate(backend, stored, test).accuracy();
            testName = test.name();
        }
        if (json) {
            o.printf(
                    Locale.ROOT,
                    "{\"arch\":\"%s\",\"data\":\"%s\",\"seed\":%d,\"epochs\":%d,\"best_epoch\":%d,"
                            + "\"validation_accuracy\":%.4f,\"validation_groups\":%s,\"batch_norm_folded\":%d,"
                            + "\"test_data\":\"%s\",\"test_accuracy\":%s,\"seconds\":%.3f,"
                            + "\"out\":\"%s\"}%n",
                    arch,
                    train.name(),
                    seed,
                    r.epochs().size(),
                    r.bestEpoch(),
                    r.bestValidationAccuracy(),
                    r.validationGroups().toString().replace(" ", ""),
                    folded,
                    testName,
                    Double.isNaN(testAccuracy) ? "null" : String.format(Locale.ROOT, "%.4f", testAccuracy),
                    r.seconds(),
                    out);
        } else {
            o.printf(
                    Locale.ROOT,
                    "trained %s on %s: best validation accuracy %.2f %% (epoch %d), %.1f s; stored in %s%s%n",
                    arch,
                    train.name(),
                    r.bestValidationAccuracy(),
                    r.bestEpoch(),
                    r.seconds(),
                    out,
                    folded > 0 ? " (" + folded + " BatchNorm layers folded)" : "");
            if (eval != null) {
                o.printf(Locale.ROOT, "accuracy on %s: %.2f %%%n", testName, testAccuracy);
            }
        }
        o.flush();
        return 0;
    }
}
