package io.tinyptq.kernel.registry;

import io.tinyptq.api.TinyPtqException;

/** Two providers of one kind share a name, or a name breaks the naming rule; the message names both classes. */
public class PluginConflictException extends TinyPtqException {
    public PluginConflictException(String message) {
        super(message);
    }
}
