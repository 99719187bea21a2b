package io.tinyptq.sweep;

import io.tinyptq.api.TinyPtqException;

/** A results database cannot be opened, read or written: the message names the file and what was expected. */
public class ResultsDbException extends TinyPtqException {
    public ResultsDbException(String message) {
        super(message);
    }

    public ResultsDbException(String message, Throwable cause) {
        super(message, cause);
    }
}
