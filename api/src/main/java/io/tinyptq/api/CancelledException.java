package io.tinyptq.api;

/** Thrown at the next cancellation check after a run was cancelled; work finished before it is kept. */
public class CancelledException extends TinyPtqException {
    public CancelledException(String message) {
        super(message);
    }
}
