package io.tinyptq.backend.cpu.kernels;

import java.util.concurrent.Semaphore;
import java.util.concurrent.locks.ReentrantLock;
import jdk.incubator.vector.FloatVector;

/**
 * A fixed team of threads for the fast kernel paths: the calling thread plus {@code threads() - 1} persistent
 * daemon workers.
 *
 * <p><b>Why this shape.</b> On the 2-core machines this project targets, the measured winner was one persistent
 * worker plus the caller, each taking a contiguous share of output rows so that no cross-thread reduction is
 * needed. Hand-off is <em>blocking</em> (a {@link Semaphore} per worker): when another process holds a core a
 * spinning runtime collapses (an OpenMP peer went from ~2.7 ms to ~108 ms per iteration), while a blocking
 * hand-off only falls back to one-thread speed. {@code Semaphore.acquire} parks after at most a short bounded
 * spin inside the JDK, never an unbounded one.
 *
 * <p><b>Re-entrancy.</b> A team runs one parallel region at a time. A call made while the team is busy (from a
 * worker, i.e. nested, or from a second application thread) runs the whole range on the calling thread, so
 * results never depend on contention; every kernel splits work so that the numerical result is independent of
 * how the range is divided. A sum that crosses threads is cut into chunks whose boundaries depend on the problem
 * only, never on {@link #threads()}, and the chunks' partial sums are added in chunk order (the depthwise weight
 * gradient, {@code DepthwiseConv2d.backwardWeightLoaded}); the results then have the same bits for every team.
 */
public final class Parallel implements AutoCloseable {

    /** A share of a parallel loop: indices {@code [from, to)} run by worker number {@code worker}. */
    @FunctionalInterface
    public interface RangeTask {
        void run(int worker, int from, int to);
    }

    private static final Parallel SERIAL = new Parallel(1);
    private static volatile Parallel shared;

    private final int threads;
    private final Worker[] workers;
    private final ReentrantLock busy = new ReentrantLock();
    private volatile boolean closed;

    /**
     * Creates a team of {@code threads} threads (the caller counts as one).
     *
     * @throws IllegalArgumentException if {@code threads < 1}
     */
    public Parallel(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        this.threads = threads;
        this.workers = new Worker[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker(i + 1);
            Thread t = new Thread(workers[i], "tinyptq-cpu-" + (i + 1));
            t.setDaemon(true);
            t.start();
        }
    }

    /** A one-thread team: everything runs on the caller. */
    public static Parallel serial() {
        return SERIAL;
    }

    /** A process-wide team with one thread per available processor (created on first use). */
    public static Parallel shared() {
        Parallel p = shared;
        if (p == null) {
            synchronized (Parallel.class) {
                p = shared;
                if (p == null) {
                    p = new Parallel(Runtime.getRuntime().availableProcessors());
                    shared = p;
                }
            }
        }
        return p;
    }

    /** Number of threads in the team, the caller included. */
    public int threads() {
        return threads;
    }

    /** Float lanes of the preferred vector species ({@code FloatVector.SPECIES_PREFERRED.length()}): 16 with AVX-512. */
    public static int simdWidth() {
        return FloatVector.SPECIES_PREFERRED.length();
    }

    /**
     * Runs {@code task} over {@code [0, n)} split into at most {@link #threads()} contiguous, near-equal shares;
     * share {@code 0} runs on the caller. Returns when every share is done; an exception from any share is
     * rethrown here (the first one; others are added as suppressed).
     */
    public void forRange(int n, RangeTask task) {
        forRange(n, 1, task);
    }

    /**
     * Like {@link #forRange(int, RangeTask)}, but only shares of at least {@code minPerThread} indices are
     * handed to other threads, so that small loops do not pay the hand-off (a few microseconds).
     */
    public void forRange(int n, int minPerThread, RangeTask task) {
        int parts = Math.min(threads, Math.max(1, n / Math.max(1, minPerThread)));
        if (parts <= 1 || closed || !busy.tryLock()) {
            if (n > 0) {
                task.run(0, 0, n);
            }
            return;
        }
        try {
            for (int i = 1; i < parts; i++) {
                workers[i - 1].submit(task, (int) ((long) n * i / parts), (int) ((long) n * (i + 1) / parts));
            }
            Throwable failure = null;
            try {
                task.run(0, 0, (int) ((long) n / parts));
            } catch (Throwable t) {
                failure = t;
            }
            for (int i = 1; i < parts; i++) {
                Throwable t = workers[i - 1].await();
                if (t != null) {
                    if (failure == null) {
                        failure = t;
                    } else {
                        failure.addSuppressed(t);
                    }
                }
            }
            if (failure instanceof RuntimeException re) {
                throw re;
            }
            if (failure instanceof Error er) {
                throw er;
            }
        } finally {
            busy.unlock();
        }
    }

    /** Stops the workers (they are daemons, so this is only needed to release them early). */
    @Override
    public void close() {
        if (this == SERIAL || this == shared) {
            return;
        }
        closed = true;
        for (Worker w : workers) {
            w.submit(null, 0, 0);
        }
    }

    @Override
    public String toString() {
        return "Parallel[threads=" + threads + ", simdWidth=" + simdWidth() + "]";
    }

    /** One persistent worker: waits (parked) for a share, runs it, signals completion. */
    private static final class Worker implements Runnable {
        private final int index;
        private final Semaphore start = new Semaphore(0);
        private final Semaphore done = new Semaphore(0);
        // Written by the submitting thread before start.release(), read after start.acquire(): the semaphore
        // pair gives the happens-before edges, so plain fields suffice.
        private RangeTask task;
        private int from;
        private int to;
        private Throwable failure;

        Worker(int index) {
            this.index = index;
        }

        void submit(RangeTask task, int from, int to) {
            this.task = task;
            this.from = from;
            this.to = to;
            this.failure = null;
            start.release();
        }

        Throwable await() {
            done.acquireUninterruptibly();
            Throwable t = failure;
            task = null;
            return t;
        }

        @Override
        public void run() {
            while (true) {
                start.acquireUninterruptibly();
                RangeTask t = task;
                if (t == null) {
                    return;
                }
                try {
                    if (to > from) {
                        t.run(index, from, to);
                    }
                } catch (Throwable e) {
                    failure = e;
                }
                done.release();
            }
        }
    }
}
