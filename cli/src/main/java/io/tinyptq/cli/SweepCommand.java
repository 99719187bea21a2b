package io.tinyptq.cli;

import io.tinyptq.api.TinyPtqException;
import io.tinyptq.kernel.Kernel;
import io.tinyptq.kernel.pipeline.CancellationToken;
import io.tinyptq.recipes.BundledRecipes;
import io.tinyptq.sweep.LocalTrialExecutor;
import io.tinyptq.sweep.ResultsDb;
import io.tinyptq.sweep.SweepFile;
import io.tinyptq.sweep.SweepFiles;
import io.tinyptq.sweep.SweepPlan;
import io.tinyptq.sweep.SweepRunner;
import io.tinyptq.sweep.Trial;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
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
            description = "trials at once (default 1); each then gets"
                    + " cores/N backend threads unless its overrides set backend.threads")
    int parallel;

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
            o.printf(
                    "sweep %s: %d trials (%d models x %d recipes x %d bit-widths x %d seeds), %d at a time;"
                            + " results in %s%n",
                    sweep.name(),
                    trials.size(),
                    sweep.models().size(),
                    sweep.recipes().size(),
                    sweep.bits().size(),
                    sweep.seeds().size(),
                    parallel,
                    dbFile);
            o.flush();
            CancellationToken cancel = new CancellationToken();
            Thread hook = new Thread(() -> cancel.cancel("interrupted (Ctrl-C)"));
            Runtime.getRuntime().addShutdownHook(hook);
            int threads = parallel > 1 ? LocalTrialExecutor.threadsFor(parallel) : 0;
            try (LocalTrialExecutor executor = new LocalTrialExecutor(
                    k, Defaults.dataRoot(dataRoot), Defaults.datasets(datasets), parallel, threads)) {
                SweepRunner.Summary s =
                        new SweepRunner(results, executor, new ConsoleProgress(err, true), cancel).run(trials);
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
}
