package io.tinyptq.api;

/** A model graph is malformed: a dangling tensor name, a shape mismatch, a non-finite weight. */
public class InvalidModelException extends TinyPtqException {
    public InvalidModelException(String message) {
        super(message);
    }
}
