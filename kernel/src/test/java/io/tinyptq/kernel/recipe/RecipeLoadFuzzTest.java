package io.tinyptq.kernel.recipe;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.tinyptq.api.TinyPtqException;
import io.tinyptq.kernel.fakes.Fakes;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * Any recipe text, with any {@code --set key=value} overrides, ends in a recipe or in a {@link TinyPtqException}
 * with a message: never another exception, an OutOfMemoryError or a hang. An input is the recipe's YAML, then each
 * override after a NUL byte (the seeds in {@code src/test/resources/.../RecipeLoadFuzzTestInputs/}). To search for
 * new inputs: {@code JAZZER_FUZZ=1 ./mvnw -q verify -pl kernel -am -Dtest=RecipeLoadFuzzTest}.
 */
class RecipeLoadFuzzTest {
    private static final RecipeLoader LOADER = new RecipeLoader(Fakes.registry());

    /** The recipe's words and the override syntax, so that mutations reach the overrides, not only the YAML. */
    @DictionaryEntries({
        "\u0000",
        "=",
        ".",
        "optimize",
        "preprocess",
        "postprocess",
        "init",
        "weights",
        "activations",
        "calibration",
        "quantization",
        "backend",
        "seed",
        "name",
        "plugin",
        "options",
        "spy-opt",
        "spy-pre",
        "spy-post",
        "absmax",
        "reference",
        "iterations",
        "mode",
        "skip",
        "label",
        "cap",
        "weight_bits",
        "activation_bits",
        "overrides",
        "layer",
        "size",
        "batch_size",
        "[",
        "]",
        "{",
        "}",
        ": ",
        "0",
        "1"
    })
    @FuzzTest(maxDuration = "10m")
    void anyRecipeAndOverridesGiveARecipeOrAMessage(byte[] bytes) {
        List<String> parts = Arrays.asList(new String(bytes, StandardCharsets.UTF_8).split("\0", -1));
        try {
            Recipe recipe = LOADER.load(parts.get(0), "fuzz.yaml");
            RecipeOverrides.apply(recipe, parts.subList(1, parts.size()), LOADER);
        } catch (TinyPtqException expected) {
            if (expected.getMessage() == null || expected.getMessage().isBlank()) {
                throw new AssertionError("an error without a message", expected);
            }
        }
    }
}
