package io.tinyptq.api;

/**
 * A plugin option or recipe value breaks a rule. The message names the stage, plugin, key, the rule and the
 * value found, so that the same message serves recipes written in YAML and pipelines built in Java.
 */
public class InvalidOptionException extends TinyPtqException {
    public InvalidOptionException(String message) {
        super(message);
    }
}
