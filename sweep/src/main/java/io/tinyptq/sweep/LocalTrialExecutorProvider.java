package io.tinyptq.sweep;

import io.tinyptq.api.TinyPtqException;

/** {@code --executor local}: trials in this JVM, {@code --parallel} at a time ({@link LocalTrialExecutor}). */
public final class LocalTrialExecutorProvider implements TrialExecutorProvider {
    @Override
    public String name() {
        return "local";
    }

    @Override
    public String description() {
        return "trials in this JVM, --parallel at a time, the cores shared out among them";
    }

    @Override
    public TrialExecutor create(TrialExecutorSettings s) {
        if (!s.conf().isEmpty()) {
            throw new TinyPtqException("--master and --conf are settings of a cluster executor (--executor spark);"
                    + " the local executor takes --parallel, found " + s.conf().keySet());
        }
        if (s.parallel() < 1) {
            throw new TinyPtqException(
                    "--parallel is " + s.parallel() + ", expected the number of trials to run at" + " once, >= 1");
        }
        int threads = s.parallel() > 1 ? LocalTrialExecutor.threadsFor(s.parallel()) : 0;
        return new LocalTrialExecutor(s.kernel(), s.dataRoot(), s.datasets(), s.parallel(), threads);
    }
}
