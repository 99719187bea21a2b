package io.tinyptq.api.options;

/** The options record of a plugin that takes none; a recipe may omit {@code options:} or leave it empty. */
public record NoOptions() {
    public static final NoOptions INSTANCE = new NoOptions();
}
