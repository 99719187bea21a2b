package io.tinyptq.sweep.spark;

import io.tinyptq.api.CancelledException;
import io.tinyptq.api.TinyPtqException;
import io.tinyptq.kernel.pipeline.RunOptions;
import io.tinyptq.kernel.run.RunReport;
import io.tinyptq.sweep.Trial;
import io.tinyptq.sweep.TrialExecutor;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskStart;

/**
 * Runs trials as Apache Spark tasks, one trial per task, in executor JVMs (embedded {@code local[*]}, a standalone
 * cluster, YARN or Kubernetes). The driver (this JVM) alone writes the results database: a task sends its trial's
 * report back ({@link TrialOutcome}) and the sweep records it here, so SQLite keeps one writer.
 *
 * <p>Each {@link #submit} is a Spark job of one one-trial partition, started from a driver thread: Spark runs jobs from
 * several threads side by side, and its scheduler hands each task to a free slot as the sweep submits it, so results
 * stream back trial by trial and the sweep claims a trial only when a slot can take it. A batch of all pending trials
 * in one job would schedule the same way but would claim every trial at once and report none until the batch ended.
 *
 * <p>Faults: a task whose executor is lost runs again elsewhere ({@code spark.task.maxFailures}); a trial that fails
 * for its own reasons comes back as a failure and is not run again.
 */
public final class SparkTrialExecutor implements TrialExecutor {
    /** How long the driver waits for a cluster's first executor before giving up. */
    static final Duration EXECUTOR_WAIT = Duration.ofSeconds(120);

    private final JavaSparkContext spark;
    private final String dataRoot;
    private final String datasets;
    private final int capacity;
    private final ExecutorService jobs;
    private final List<TaskPlacement> placements = Collections.synchronizedList(new ArrayList<>());
    private final AtomicInteger taskAttempts = new AtomicInteger();

    private SparkTrialExecutor(JavaSparkContext spark, Path dataRoot, Path datasets) {
        this.spark = spark;
        this.dataRoot = dataRoot.toAbsolutePath().normalize().toString();
        this.datasets =
                datasets == null ? null : datasets.toAbsolutePath().normalize().toString();
        this.capacity = slots(spark);
        AtomicInteger n = new AtomicInteger();
        this.jobs = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "tinyptq-spark-job-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        spark.sc().addSparkListener(new SparkListener() {
            @Override
            public void onTaskStart(SparkListenerTaskStart taskStart) {
                taskAttempts.incrementAndGet();
            }
        });
    }

    /**
     * Starts Spark with {@code conf} ({@code spark.master}, default embedded {@code local[*]}) and waits for a
     * cluster's first executor.
     *
     * @param dataRoot root of the data files, a path every executor sees (a shared file system on a cluster)
     * @param datasets folder of dataset descriptors, a path every executor sees, or null
     * @throws TinyPtqException when the master cannot be reached or Spark does not start, in one line
     */
    public static SparkTrialExecutor start(Map<String, String> conf, Path dataRoot, Path datasets) {
        SparkConf sparkConf = SparkSettings.conf(conf);
        String master = sparkConf.get("spark.master");
        checkReachable(master);
        JavaSparkContext spark;
        try {
            spark = new JavaSparkContext(sparkConf);
        } catch (Exception e) { // SparkException too, which Scala throws unchecked
            throw new TinyPtqException("cannot start Spark with master '" + master + "': " + firstLine(e), e);
        }
        try {
            awaitExecutor(spark, master);
            return new SparkTrialExecutor(spark, dataRoot, datasets);
        } catch (RuntimeException e) {
            spark.stop();
            throw e;
        }
    }

    /** A standalone master that refuses connections fails here at once, not after Spark's minute of retries. */
    private static void checkReachable(String master) {
        String host = SparkSettings.standaloneHost(master);
        if (host == null) {
            return;
        }
        int port = SparkSettings.standalonePort(master);
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host, port), 5_000);
        } catch (IOException e) {
            throw new TinyPtqException(
                    "cannot reach the Spark master " + master + " (" + e.getMessage() + "); start"
                            + " it, or check --master",
                    e);
        }
    }

    private static void awaitExecutor(JavaSparkContext spark, String master) {
        if (master.startsWith("local")) {
            return;
        }
        long deadline = System.nanoTime() + EXECUTOR_WAIT.toNanos();
        // The driver counts itself among the executors.
        while (spark.statusTracker().getExecutorInfos().length < 2) {
            if (spark.sc().isStopped()) {
                throw new TinyPtqException("Spark stopped before an executor of " + master + " registered (see its"
                        + " log above: the master gave up or refused the application)");
            }
            if (System.nanoTime() > deadline) {
                throw new TinyPtqException("no Spark executor of " + master + " registered within "
                        + EXECUTOR_WAIT.toSeconds() + " s: are workers running, with the cores and memory asked for?");
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CancelledException("interrupted while waiting for Spark executors");
            }
        }
    }

    /**
     * Task slots: {@code spark.default.parallelism} when set, else the cores registered at start (all of them in local
     * mode), divided by {@code spark.task.cpus}. More trials than slots would only wait in Spark's queue, claimed.
     */
    private static int slots(JavaSparkContext spark) {
        int cpusPerTask = spark.getConf().getInt("spark.task.cpus", 1);
        return Math.max(1, spark.defaultParallelism() / cpusPerTask);
    }

    @Override
    public int capacity() {
        return capacity;
    }

    @Override
    public CompletableFuture<RunReport> submit(Trial trial, RunOptions options) {
        TrialTask task = new TrialTask(trial.withAbsolutePaths(), dataRoot, datasets);
        return CompletableFuture.supplyAsync(() -> runJob(task, options), jobs);
    }

    private RunReport runJob(TrialTask task, RunOptions options) {
        options.cancellation().check("trial " + task.trial().label());
        TrialOutcome outcome;
        try {
            spark.setJobDescription(task.trial().label());
            outcome = spark.parallelize(List.of(task), 1)
                    .map(new TrialTask.Run())
                    .collect()
                    .getFirst();
        } catch (Exception e) { // SparkException too, which Scala throws unchecked
            options.cancellation().check("trial " + task.trial().label());
            throw new TrialFailedException("Spark gave up on the trial's task: " + firstLine(e), e);
        }
        placements.add(outcome.where());
        if (outcome.failure() != null) {
            throw new TrialFailedException(outcome.failure(), null);
        }
        return outcome.report();
    }

    /** Where each finished trial ran, in the order they finished. */
    public List<TaskPlacement> placements() {
        return List.copyOf(placements);
    }

    /** Tasks Spark has started, attempts again after a lost executor included. */
    public int taskAttempts() {
        return taskAttempts.get();
    }

    /** Executors registered now (the driver not counted). */
    public int executors() {
        return spark.statusTracker().getExecutorInfos().length - 1;
    }

    /** The master Spark runs on. */
    public String master() {
        return spark.master();
    }

    @Override
    public void close() {
        jobs.shutdownNow();
        spark.stop();
    }

    private static String firstLine(Throwable e) {
        String m = String.valueOf(e.getMessage());
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }
}
