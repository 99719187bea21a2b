package io.tinyptq.sweep;

/**
 * Makes a {@link TrialExecutor} by name ({@code tinyptq sweep --executor NAME}). Found by
 * {@link java.util.ServiceLoader} ({@link TrialExecutors}), so that an executor with heavy dependencies, such as the
 * Apache Spark one in {@code sweep-spark}, ships in a jar of its own and is there when that jar is on the path.
 * Providers are cheap: nothing starts before {@link #create}.
 */
public interface TrialExecutorProvider {

    /** The name {@code --executor} takes: lower case letters, digits and dashes. */
    String name();

    /** One line for listings and error messages. */
    String description();

    /**
     * Starts an executor.
     *
     * @throws io.tinyptq.api.TinyPtqException when the settings do not suit this executor or it cannot start (a
     *         cluster that does not answer), saying which and why in one line
     */
    TrialExecutor create(TrialExecutorSettings settings);
}
