package io.tinyptq.recipes;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The recipes shipped with tinyptq, by name (file name without {@code .yaml}). {@code index.txt} lists them, so
 * that they can be enumerated from a jar on the module path.
 */
public final class BundledRecipes {
    private BundledRecipes() {}

    public static List<String> names() {
        return read("index.txt")
                .lines()
                .map(String::strip)
                .filter(l -> !l.isEmpty() && !l.startsWith("#"))
                .toList();
    }

    /**
     * The YAML text of a bundled recipe.
     *
     * @throws UnknownRecipeException when there is none by that name, listing the bundled names
     */
    public static String yaml(String name) {
        if (!names().contains(name)) {
            throw new UnknownRecipeException("no bundled recipe '" + name + "'; bundled recipes: " + names());
        }
        return read(name + ".yaml");
    }

    private static String read(String resource) {
        try (InputStream in = BundledRecipes.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("bundled recipe resource " + resource + " is missing from the jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
