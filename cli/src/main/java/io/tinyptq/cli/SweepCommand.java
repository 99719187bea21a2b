package io.tinyptq.cli;

import io.tinyptq.api.TinyPtqException;
import io.tinyptq.kernel.Kernel;
import io.tinyptq.kernel.pipeline.CancellationToken;
import io.tinyptq.recipes.BundledRecipes;
import io.tinyptq.sweep.ResultsDb;
import io.tinyptq.sweep.SweepFile;
import io.tinyptq.sweep.SweepFiles;
import io.tinyptq.sweep.SweepPlan;
import io.tinyptq.sweep.SweepRunner;
import io.tinyptq.sweep.Trial;
import io.tinyptq.sweep.TrialCost;
import io.tinyptq.sweep.TrialExecutor;
import io.tinyptq.sweep.TrialExecutorSettings;
import io.tinyptq.sweep.TrialExecutors;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code tinyptq sweep}: a grid of PTQ runs recorded in a results database. */
@Command(
        name = "sweep",
        mixinStandardHelpOptions = true,
        description = "Run a sweep file's grid (models x recipes x bit-widths x seeds), one PTQ run per trial, and"
                + " record every trial in an SQLite results database; finished trials are skipped on re-runs.")
final class SweepCommand implements Callable<Integer> {
    private final Supplier<Kernel> kernel;

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "SWEEP", description = "the sweep file (YAML), e.g. recipes/sweeps/cpu-reduced.yaml")
    Path sweepFile;

    @Option(
            names = "--out",
            description = "output folder: one folder per trial under trials/ (default:" + " target/sweeps/NAME)")
    Path out;

    @Option(names = "--db", description = "results database (default: OUT/results.db)")
    Path db;

    @Option(
            names = "--parallel",
            defaultValue = "1",
            description = "local executor: trials at once (default 1);"
                    + " each then gets cores/N backend threads unless its overrides set backend.threads")
    int parallel;

    @Option(
            names = "--executor",
            defaultValue = TrialExecutors.DEFAULT,
            description = "what runs the trials: local"
                    + " (this JVM, the default) or spark (Apache Spark tasks; bin/tinyptq adds sweep-spark's jars)")
    String executor;

    @Option(
            names = "--master",
            description = "spark executor: the cluster, local[*] (the default: embedded),"
                    + " spark://HOST:7077, yarn or k8s://...")
    String master;

    @Option(
            names = "--conf",
            paramLabel = "KEY=VALUE",
            description = "spark executor: a Spark setting, e.g."
                    + " spark.task.cpus=2 or spark.task.resource.gpu.amount=1 (repeatable)")
    List<String> conf = new ArrayList<>();

    @Option(names = "--data-root", description = "root of the data files (default: ../shared/data when present)")
    Path dataRoot;

    @Option(names = "--datasets", description = "folder of dataset descriptors (default: ./datasets)")
    Path datasets;

    @Option(names = "--dry-run", description = "list the trials and whether each is done, and run none")
    boolean dryRun;

    SweepCommand(Supplier<Kernel> kernel) {
        this.kernel = kernel;
    }

    @Override
    public Integer call() {
        PrintWriter o = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (parallel < 1) {
            throw new TinyPtqException(
                    "--parallel is " + parallel + ", expected the number of trials to run at once," + " >= 1");
        }
        Map<String, String> engineConf = engineConf(master, conf);
        Defaults.outFolder("--out", out);
        Kernel k = kernel.get();
        SweepFile sweep = SweepFiles.load(sweepFile);
        Path outDir = out != null ? out : Path.of("target", "sweeps", sweep.name());
        Path dbFile = db != null ? db : outDir.resolve("results.db");
        Path dir = sweepFile.toAbsolutePath().getParent();
        List<Trial> trials = SweepPlan.expand(sweep, dir, BundledRecipes::yaml, k.recipes(), outDir);
        try (ResultsDb results = ResultsDb.open(dbFile)) {
            if (dryRun) {
                for (Trial t : trials) {
                    String status = results.status(t.key());
                    o.printf(
                            "%4d  %-9s  %s  %s%n",
                            t.index(), status == null ? "todo" : status, t.key().substring(0, 12), t.label());
                }
                o.flush();
                return 0;
            }
            CancellationToken cancel = new CancellationToken();
            Thread hook = new Thread(() -> cancel.cancel("interrupted (Ctrl-C)"));
            Runtime.getRuntime().addShutdownHook(hook);
            try (TrialExecutor executor = TrialExecutors.find(this.executor)
                    .create(new TrialExecutorSettings(
                            k, Defaults.dataRoot(dataRoot), Defaults.datasets(datasets), parallel, engineConf))) {
                o.printf(
                        "sweep %s: %d trials (%d models x %d recipes x %d bit-widths x %d seeds), %d at a time%s%s;"
                                + " results in %s%n",
                        sweep.name(),
                        trials.size(),
                        sweep.models().size(),
                        sweep.recipes().size(),
                        sweep.bits().size(),
                        sweep.seeds().size(),
                        executor.capacity(),
                        executor.capacity() > 1 ? ", longest first" : "",
                        TrialExecutors.DEFAULT.equals(this.executor) ? "" : " (executor " + this.executor + ")",
                        dbFile);
                o.flush();
                SweepRunner.Summary s = new SweepRunner(
                                results, executor, new ConsoleProgress(err, true), cancel, TrialCost.of(k.registry()))
                        .run(trials);
                o.println(s.text());
                o.println("report: bin/tinyptq report " + dbFile + " --out " + outDir.resolve("report"));
                s.failures().forEach(f -> o.println("failed: " + f));
                o.flush();
                return s.failed() > 0 || s.cancelled() > 0 ? 1 : 0;
            } finally {
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException shuttingDown) {
                    // The JVM is exiting (Ctrl-C): the hook has run and cancelled the trials in flight.
                }
            }
        }
    }

    /** {@code --master} and each {@code --conf KEY=VALUE} as the executor's settings, in the order given. */
    static Map<String, String> engineConf(String master, List<String> conf) {
        Map<String, String> m = new LinkedHashMap<>();
        if (master != null) {
            m.put("spark.master", master);
        }
        for (String c : conf) {
            int eq = c.indexOf('=');
            if (eq <= 0 || c.substring(0, eq).isBlank()) {
                throw new TinyPtqException("--conf '" + c + "': expected KEY=VALUE, e.g. spark.task.cpus=2");
            }
            m.put(c.substring(0, eq).strip(), c.substring(eq + 1).strip());
        }
        return m;
    }
}
