package io.tinyptq.sweep.spark;

import io.tinyptq.sweep.TrialExecutor;
import io.tinyptq.sweep.TrialExecutorProvider;
import io.tinyptq.sweep.TrialExecutorSettings;

/** {@code --executor spark}: trials as Apache Spark tasks ({@link SparkTrialExecutor}). */
public final class SparkTrialExecutorProvider implements TrialExecutorProvider {
    @Override
    public String name() {
        return "spark";
    }

    @Override
    public String description() {
        return "trials as Apache Spark tasks: embedded local[*], a standalone cluster, YARN or Kubernetes (--master)";
    }

    @Override
    public TrialExecutor create(TrialExecutorSettings s) {
        return SparkTrialExecutor.start(s.conf(), s.dataRoot(), s.datasets());
    }
}
