package io.tinyptq.kernel.recipe;

import java.util.Objects;

/**
 * One plugin of a pipeline stage with its options. In a recipe a step is either the plugin name alone
 * ({@code - cle}) or a map ({@code - plugin: cle, options: {...}}).
 *
 * @param plugin  the provider's name
 * @param options its options record; {@code null} in a recipe under construction means "the defaults"
 */
public record Step(String plugin, Record options) {
    public Step {
        Objects.requireNonNull(plugin, "plugin");
    }

    public static Step of(String plugin) {
        return new Step(plugin, null);
    }
}
