package io.tinyptq.sweep.spark;

import io.tinyptq.api.TinyPtqException;
import io.tinyptq.api.spi.ProgressListener;
import io.tinyptq.kernel.pipeline.CancellationToken;
import io.tinyptq.kernel.pipeline.RunOptions;
import io.tinyptq.sweep.Trial;
import io.tinyptq.sweep.TrialRun;
import java.io.Serializable;
import java.nio.file.Path;
import org.apache.spark.api.java.function.Function;

/**
 * One trial as a Spark task: shipped to an executor, run there through {@link TrialRun} (the code the local executor
 * runs) with the executor's own kernel and the cores and GPU the task was given.
 *
 * @param trial    the trial, its paths absolute (the executor's working directory is not the driver's)
 * @param dataRoot root of the data files, a path every executor sees
 * @param datasets folder of dataset descriptors, a path every executor sees, or null
 */
record TrialTask(Trial trial, String dataRoot, String datasets) implements Serializable {

    TrialOutcome run() {
        TaskPlacement where = TaskPlacement.current();
        try {
            TrialRun run =
                    new TrialRun(ExecutorKernel.get(), Path.of(dataRoot), datasets == null ? null : Path.of(datasets));
            return TrialOutcome.ran(
                    run.run(
                            trial,
                            where.resources(),
                            new RunOptions(ProgressListener.NONE, new CancellationToken(), null)),
                    where);
        } catch (RuntimeException e) {
            // The trial's own failure: a result, not a failed task, so Spark does not run it again.
            return TrialOutcome.failed(message(e), where);
        }
    }

    /** A user's mistake by its message, as the local executor records it; anything else with its type too. */
    static String message(RuntimeException e) {
        return e instanceof TinyPtqException && e.getMessage() != null ? e.getMessage() : e.toString();
    }

    /** The function Spark applies to the one-element partition. */
    static final class Run implements Function<TrialTask, TrialOutcome> {
        @Override
        public TrialOutcome call(TrialTask task) {
            return task.run();
        }
    }
}
