package io.tinyptq.sweep;

import io.tinyptq.kernel.pipeline.RunOptions;
import io.tinyptq.kernel.run.RunReport;
import java.util.concurrent.CompletableFuture;

/**
 * Runs trials. {@link SweepRunner} decides which trials run and records them; an executor only runs them, so a
 * distributed executor (a cluster queue, remote workers) plugs in without touching the sweep logic. A
 * {@link Trial} is plain data with its recipe as resolved YAML, ready to be shipped.
 */
public interface TrialExecutor extends AutoCloseable {

    /** How many trials may be in flight at once; the runner never submits more. */
    int capacity();

    /**
     * Starts a trial and returns at once. The future completes with the run's report, or exceptionally with the
     * failure ({@link io.tinyptq.api.CancelledException} when {@code options.cancellation()} stopped it).
     *
     * @param options progress for this trial (task names already say which trial) and the sweep's cancellation;
     *                its work folder is unused (each trial writes under {@link Trial#outDir})
     */
    CompletableFuture<RunReport> submit(Trial trial, RunOptions options);

    /** Stops accepting trials and releases threads or connections; trials in flight are not waited for. */
    @Override
    void close();
}
