package io.tinyptq.sweep;

/**
 * Where recipe names that are not files come from: the CLI passes the bundled recipes
 * ({@code io.tinyptq.recipes.BundledRecipes::yaml}); tests pass their own.
 */
@FunctionalInterface
public interface RecipeSource {
    /**
     * The YAML text of the recipe called {@code name}.
     *
     * @throws IllegalArgumentException when there is no recipe by that name (the message lists the known ones)
     */
    String yaml(String name);
}
