package io.tinyptq.api;

/**
 * Base of every error tinyptq reports to a user: bad input (model, recipe, data) or a failed stage.
 * Messages name the file, key, layer or plugin concerned and what was expected.
 */
public class TinyPtqException extends RuntimeException {
    public TinyPtqException(String message) {
        super(message);
    }

    public TinyPtqException(String message, Throwable cause) {
        super(message, cause);
    }
}
