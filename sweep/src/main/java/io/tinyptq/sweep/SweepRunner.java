package io.tinyptq.sweep;

import io.tinyptq.api.CancelledException;
import io.tinyptq.api.spi.ProgressListener;
import io.tinyptq.kernel.pipeline.CancellationToken;
import io.tinyptq.kernel.pipeline.RunOptions;
import io.tinyptq.kernel.run.RunReport;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs a sweep's trials through a {@link TrialExecutor} and records each in the {@link ResultsDb}: finished
 * trials are skipped, each trial is claimed before it starts and its row committed when it ends, so a killed
 * sweep loses only the trials in flight. Progress: one trial at a time shows the stage bars of the running trial
 * (named {@code [i/n] stage}); several at a time show one {@code sweep} bar; and each finished trial prints a
 * summary line with the sweep's elapsed time and an estimate of the time left ({@link SweepEta}). With several
 * trials in flight and a {@link TrialCost}, the pending trials start the most expensive first; one at a time, they
 * run in the grid's order.
 */
public final class SweepRunner {
    private final ResultsDb db;
    private final TrialExecutor executor;
    private final ProgressListener progress;
    private final CancellationToken cancel;
    private final TrialCost cost;

    /** Runs the trials in the order given. */
    public SweepRunner(ResultsDb db, TrialExecutor executor, ProgressListener progress, CancellationToken cancel) {
        this(db, executor, progress, cancel, null);
    }

    /** @param cost orders the pending trials longest first when the executor runs several at once (null: as given) */
    public SweepRunner(
            ResultsDb db, TrialExecutor executor, ProgressListener progress, CancellationToken cancel, TrialCost cost) {
        this.db = db;
        this.executor = executor;
        this.progress = progress;
        this.cancel = cancel;
        this.cost = cost;
    }

    /**
     * What a sweep did.
     *
     * @param skipped finished by an earlier sweep on this database
     * @param busy    left to another sweep that is running them now
     */
    public record Summary(
            int total,
            int skipped,
            int ran,
            int failed,
            int cancelled,
            int busy,
            double seconds,
            List<String> failures) {
        public String text() {
            return String.format(
                    Locale.ROOT,
                    "%d trials: %d run, %d already done, %d failed, %d cancelled, %d left" + " to another sweep; %s",
                    total,
                    ran,
                    skipped,
                    failed,
                    cancelled,
                    busy,
                    time(seconds));
        }
    }

    public Summary run(List<Trial> trials) {
        long t0 = System.nanoTime();
        int total = trials.size();
        List<Trial> pending = new ArrayList<>();
        int skipped = 0;
        for (Trial t : trials) {
            if ("done".equals(db.status(t.key()))) {
                skipped++;
            } else {
                pending.add(t);
            }
        }
        if (cost != null && executor.capacity() > 1) {
            pending = cost.longestFirst(pending);
        }
        if (skipped > 0) {
            progress.message(
                    skipped + " of " + total + " trials already done in " + db.file() + "; running " + pending.size());
        }
        AtomicInteger done = new AtomicInteger(skipped);
        AtomicInteger ran = new AtomicInteger();
        AtomicInteger failed = new AtomicInteger();
        AtomicInteger cancelled = new AtomicInteger();
        int busy = 0;
        List<String> failures = Collections.synchronizedList(new ArrayList<>());
        Semaphore slots = new Semaphore(executor.capacity());
        boolean bars = executor.capacity() == 1;
        List<CompletableFuture<?>> inFlight = new ArrayList<>();
        if (!bars) {
            progress.progress("sweep", done.get(), total);
        }
        SweepEta eta = new SweepEta(t0, pending, cost);
        for (Trial t : pending) {
            if (cancel.isCancelled()) {
                break;
            }
            slots.acquireUninterruptibly();
            ResultsDb.Claim claim = db.claim(t);
            if (claim != ResultsDb.Claim.RUN) {
                slots.release();
                eta.skip(t);
                if (claim == ResultsDb.Claim.DONE) {
                    skipped++;
                    done.incrementAndGet();
                } else {
                    busy++;
                    progress.message(prefix(t, total) + "skipped " + t.label() + ": another sweep is running it");
                }
                continue;
            }
            long start = System.nanoTime();
            ProgressListener trialProgress = bars ? new Prefixed(progress, prefix(t, total)) : ProgressListener.NONE;
            CompletableFuture<RunReport> f;
            try {
                f = executor.submit(t, new RunOptions(trialProgress, cancel, null));
            } catch (RuntimeException e) {
                slots.release();
                throw e;
            }
            inFlight.add(f.handle((report, error) -> {
                try {
                    double s = (System.nanoTime() - start) / 1e9;
                    int n = done.incrementAndGet();
                    String timeLeft = eta.finish(t);
                    if (error == null) {
                        db.finish(t, report);
                        ran.incrementAndGet();
                        progress.message(String.format(
                                Locale.ROOT,
                                "[%d/%d] %s: FP %.2f %% -> %.2f %% (drop %.2f), BOPs -%.1f %%, memory -%.1f %%, %s%s",
                                n,
                                total,
                                t.label(),
                                report.fpAccuracy(),
                                report.accuracy(),
                                report.fpAccuracy() - report.accuracy(),
                                100.0 * (1 - (double) report.bops() / report.fpBops()),
                                100.0 * (1 - (double) report.memoryBits() / report.fpMemoryBits()),
                                time(s),
                                timeLeft));
                    } else {
                        Throwable cause = error instanceof CompletionException && error.getCause() != null
                                ? error.getCause()
                                : error;
                        boolean wasCancelled = cause instanceof CancelledException;
                        db.fail(t, wasCancelled, String.valueOf(cause.getMessage()));
                        (wasCancelled ? cancelled : failed).incrementAndGet();
                        if (!wasCancelled) {
                            failures.add(t.label() + ": " + cause.getMessage());
                        }
                        progress.message(String.format(
                                Locale.ROOT,
                                "[%d/%d] %s %s: %s",
                                n,
                                total,
                                t.label(),
                                wasCancelled ? "cancelled" : "FAILED",
                                cause.getMessage()));
                    }
                    if (!bars) {
                        progress.progress("sweep", n, total);
                    }
                    return null;
                } finally {
                    slots.release();
                }
            }));
        }
        CompletableFuture.allOf(inFlight.toArray(CompletableFuture[]::new)).join();
        return new Summary(
                total,
                skipped,
                ran.get(),
                failed.get(),
                cancelled.get(),
                busy,
                (System.nanoTime() - t0) / 1e9,
                List.copyOf(failures));
    }

    private static String prefix(Trial t, int total) {
        return "[" + t.index() + "/" + total + "] ";
    }

    static String time(double s) {
        if (s < 60) {
            return String.format(Locale.ROOT, "%.1f s", s);
        }
        if (s < 3600) {
            return String.format(Locale.ROOT, "%dm%02ds", (long) s / 60, (long) s % 60);
        }
        return String.format(Locale.ROOT, "%dh%02dm", (long) s / 3600, (long) s % 3600 / 60);
    }

    /** Stage progress of one trial, named after it. */
    private record Prefixed(ProgressListener out, String prefix) implements ProgressListener {
        @Override
        public void progress(String task, long done, long total) {
            out.progress(prefix + task, done, total);
        }

        @Override
        public void message(String text) {
            out.message(prefix + text);
        }
    }
}
