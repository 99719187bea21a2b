package io.tinyptq.kernel.registry;

import io.tinyptq.api.TinyPtqException;

/** No provider of a kind has the requested name; the message lists the known names. */
public class PluginNotFoundException extends TinyPtqException {
    public PluginNotFoundException(String message) {
        super(message);
    }
}
