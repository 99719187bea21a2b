package io.tinyptq.sweep.spark;

import io.tinyptq.kernel.run.RunReport;
import java.io.Serializable;

/**
 * What a trial's task sends back to the driver: the run's report, or why the trial failed. A trial that fails for its
 * own reasons (a bad recipe, data that cannot be read) comes back as a failure rather than a failed task, so that
 * Spark does not run it again: only lost executors and other failures of the infrastructure are retried.
 *
 * @param report  the run's report, or null when it failed
 * @param failure why it failed, or null when it ran
 * @param where   the task's executor and resources
 */
public record TrialOutcome(RunReport report, String failure, TaskPlacement where) implements Serializable {

    static TrialOutcome ran(RunReport report, TaskPlacement where) {
        return new TrialOutcome(report, null, where);
    }

    static TrialOutcome failed(String failure, TaskPlacement where) {
        return new TrialOutcome(null, failure, where);
    }
}
