package io.tinyptq.sweep;

import io.tinyptq.kernel.Kernel;
import io.tinyptq.kernel.pipeline.RunOptions;
import io.tinyptq.kernel.run.PtqRun;
import io.tinyptq.kernel.run.RunReport;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs trials in this JVM, {@code parallel} at a time, each as one {@link PtqRun} ({@link TrialRun}).
 *
 * <p>Threads: the cpu backend uses one thread per core by default, so trials running side by side would fight
 * over the cores. With {@code threadsPerTrial > 0} each trial whose recipe runs on the cpu backend and does not
 * set {@code backend.threads} itself gets that many; this is an execution setting, not part of the trial's key.
 */
public final class LocalTrialExecutor implements TrialExecutor {
    private final TrialRun trialRun;
    private final int parallel;
    private final TrialResources resources;
    private final ExecutorService pool;

    /**
     * @param dataRoot        root of the data files that dataset descriptors name
     * @param datasets        folder of dataset descriptors (may be null)
     * @param parallel        trials at once (at least 1)
     * @param threadsPerTrial backend threads per trial, or 0 to leave each recipe's setting
     */
    public LocalTrialExecutor(Kernel kernel, Path dataRoot, Path datasets, int parallel, int threadsPerTrial) {
        if (parallel < 1) {
            throw new IllegalArgumentException("parallel must be at least 1, found " + parallel);
        }
        this.trialRun = new TrialRun(kernel, dataRoot, datasets);
        this.parallel = parallel;
        this.resources = new TrialResources(threadsPerTrial, null);
        AtomicInteger n = new AtomicInteger();
        this.pool = Executors.newFixedThreadPool(parallel, r -> {
            Thread t = new Thread(r, "tinyptq-trial-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /** Backend threads for each of {@code parallel} trials on this machine: the cores shared out, at least 1. */
    public static int threadsFor(int parallel) {
        return Math.max(1, Runtime.getRuntime().availableProcessors() / parallel);
    }

    @Override
    public int capacity() {
        return parallel;
    }

    @Override
    public CompletableFuture<RunReport> submit(Trial trial, RunOptions options) {
        return CompletableFuture.supplyAsync(() -> trialRun.run(trial, resources, options), pool);
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }
}
