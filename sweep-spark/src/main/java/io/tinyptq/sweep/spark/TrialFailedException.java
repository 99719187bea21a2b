package io.tinyptq.sweep.spark;

/** A trial that failed in its Spark task, or whose task Spark gave up on; the sweep records the message. */
public final class TrialFailedException extends RuntimeException {
    TrialFailedException(String message, Throwable cause) {
        super(message, cause);
    }
}
