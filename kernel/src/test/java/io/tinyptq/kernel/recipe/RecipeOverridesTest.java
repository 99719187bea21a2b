package io.tinyptq.kernel.recipe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyptq.api.InvalidOptionException;
import io.tinyptq.kernel.fakes.Fakes;
import io.tinyptq.kernel.options.OptionsException;
import java.util.List;
import org.junit.jupiter.api.Test;

class RecipeOverridesTest {
    private final RecipeLoader loader = new RecipeLoader(Fakes.registry());
    private final Recipe base = loader.load("""
            name: base
            backend: reference
            init: absmax
            optimize: [spy-opt]
            postprocess: [{plugin: spy-post, options: {label: tune}}]
            """, "base.yaml");

    @Test
    void overridesAddressStepsByPluginNameOrIndex() {
        Recipe r = RecipeOverrides.apply(
                base,
                List.of(
                        "optimize.spy-opt.iterations=7",
                        "postprocess.0.mode=careful",
                        "quantization.weight_bits=4",
                        "seed=9",
                        "calibration.size=256",
                        "quantization.overrides=[{layer: fc, weight_bits: 8}]"),
                loader);
        assertEquals(7, ((Fakes.SpyOptions) r.optimize().get(0).options()).iterations());
        assertEquals(
                Fakes.Mode.CAREFUL, ((Fakes.SpyOptions) r.postprocess().get(0).options()).mode());
        assertEquals("tune", ((Fakes.SpyOptions) r.postprocess().get(0).options()).label());
        assertEquals(4, r.quantization().weightBits());
        assertEquals(9, r.seed());
        assertEquals(256, r.calibration().size());
        assertEquals("fc", r.quantization().overrides().get(0).layer());
    }

    @Test
    void badOverridesGetTheRecipesMessages() {
        var typo = assertThrows(
                OptionsException.class,
                () -> RecipeOverrides.apply(base, List.of("optimize.spy-opt.iteratons=7"), loader));
        assertTrue(
                typo.getMessage().contains("unknown key 'iteratons' (did you mean 'iterations'?)"), typo.getMessage());
        var range = assertThrows(
                OptionsException.class,
                () -> RecipeOverrides.apply(base, List.of("quantization.weight_bits=17"), loader));
        assertTrue(range.getMessage().contains("key 'weight_bits': must be <= 8, found 17"), range.getMessage());
        var step = assertThrows(
                InvalidOptionException.class,
                () -> RecipeOverrides.apply(base, List.of("optimize.round.iterations=7"), loader));
        assertEquals(
                "override 'optimize.round.iterations=7': no step uses plugin 'round'; the steps are [spy-opt]"
                        + " (by name or index)",
                step.getMessage());
        var form =
                assertThrows(InvalidOptionException.class, () -> RecipeOverrides.apply(base, List.of("seed"), loader));
        assertTrue(form.getMessage().startsWith("override 'seed': expected key=value"), form.getMessage());
    }

    @Test
    void aValueThatIsNotYamlNamesTheOverrideOnOneLine() {
        for (String o : List.of(
                "quantization.overrides=[{layer: fc, weight_bits: 8}",
                "postprocess.0.label=\"tune",
                "seed=a: b: c",
                "optimize.spy-opt.mode=@careful",
                "calibration.size={1")) {
            var bad = assertThrows(InvalidOptionException.class, () -> RecipeOverrides.apply(base, List.of(o), loader));
            assertTrue(
                    bad.getMessage().startsWith("override '" + o + "': value is not valid YAML: "), bad.getMessage());
            assertEquals(1, bad.getMessage().lines().count(), bad.getMessage());
        }
    }

    @Test
    void aValueOfTheWrongTypeNamesTheKeyAndWhatWasExpected() {
        var iterations = assertThrows(
                OptionsException.class,
                () -> RecipeOverrides.apply(base, List.of("optimize.spy-opt.iterations=many"), loader));
        assertTrue(
                iterations
                        .getMessage()
                        .contains("stage optimize[0], plugin 'spy-opt', key 'iterations': expected an"
                                + " integer, found the string 'many'"),
                iterations.getMessage());
        var fraction = assertThrows(
                OptionsException.class,
                () -> RecipeOverrides.apply(base, List.of("optimize.0.iterations=2.5"), loader));
        assertTrue(
                fraction.getMessage().contains("key 'iterations': expected an integer, found"), fraction.getMessage());
        var flag = assertThrows(
                OptionsException.class,
                () -> RecipeOverrides.apply(base, List.of("postprocess.spy-post.verbose=[1, 2]"), loader));
        assertTrue(flag.getMessage().contains("key 'verbose': expected a boolean, found a list"), flag.getMessage());
        var mode = assertThrows(
                OptionsException.class,
                () -> RecipeOverrides.apply(base, List.of("optimize.spy-opt.mode=reckless"), loader));
        assertTrue(mode.getMessage().contains("key 'mode': expected "), mode.getMessage());
        var seed = assertThrows(OptionsException.class, () -> RecipeOverrides.apply(base, List.of("seed=abc"), loader));
        assertTrue(
                seed.getMessage().contains("recipe, key 'seed': expected an integer, found the string 'abc'"),
                seed.getMessage());
    }

    @Test
    void numbersPastTheirTypesRangeNameTheKey() {
        var seed = assertThrows(
                OptionsException.class,
                () -> RecipeOverrides.apply(base, List.of("seed=99999999999999999999999"), loader));
        assertTrue(
                seed.getMessage()
                        .contains("key 'seed': expected an integer in range [-9223372036854775808,"
                                + " 9223372036854775807], found the number 99999999999999999999999"),
                seed.getMessage());
        var size = assertThrows(
                OptionsException.class,
                () -> RecipeOverrides.apply(base, List.of("calibration.size=99999999999999999999999"), loader));
        assertTrue(
                size.getMessage()
                        .contains("section 'calibration', key 'size': expected an integer in range, found"
                                + " the number 99999999999999999999999"),
                size.getMessage());
        var iterations = assertThrows(
                OptionsException.class,
                () -> RecipeOverrides.apply(base, List.of("optimize.spy-opt.iterations=100001"), loader));
        assertTrue(
                iterations.getMessage().contains("key 'iterations': must be <= 100000, found 100001"),
                iterations.getMessage());
    }

    @Test
    void stepIndicesOutsideTheSectionNameTheIndexAndTheSectionsSize() {
        for (String[] c : new String[][] {
            {"optimize.7.iterations=5", "there is no step 7 (the section has 1)"},
            {"optimize.1.iterations=5", "there is no step 1 (the section has 1)"},
            {"preprocess.0.iterations=5", "there is no step 0 (the section has 0)"},
            {"optimize.99999999999999999999.iterations=5", "there is no step 99999999999999999999 (the section has 1)"},
            {"optimize.-1.iterations=5", "no step uses plugin '-1'; the steps are [spy-opt] (by name or index)"},
            {"optimize.0=5", "name an option of step '0'"},
            {"seed.value=5", "'seed' is a value, not a section"}
        }) {
            var bad = assertThrows(
                    InvalidOptionException.class, () -> RecipeOverrides.apply(base, List.of(c[0]), loader));
            assertEquals("override '" + c[0] + "': " + c[1], bad.getMessage());
        }
    }

    /** Paths into lists of values, through an 'options' value or with empty parts are one message, never a crash. */
    @Test
    void pathsThatNameNothingSetAreOneMessage() {
        java.util.Map<List<String>, String> cases = new java.util.LinkedHashMap<>();
        cases.put(
                List.of("calibration.size=[1]", "calibration.size.0.x=1"),
                "item 0 of the list is a value, not a step" + " or section");
        cases.put(List.of("optimize=[1]", "optimize.0.x=1"), "item 0 of the list is a value");
        cases.put(
                List.of("optimize.spy-opt.skip=[a]", "optimize.spy-opt.skip.b.c=1"),
                "the list holds values, not steps" + " or sections, so 'b' names nothing in it");
        cases.put(
                List.of("optimize.spy-opt.options=1", "optimize.spy-opt.iterations=3"),
                "the step's 'options' is a" + " value, not a map of options, so 'iterations' cannot be set in it");
        cases.put(List.of(".=1"), "key '.' has an empty part");
        cases.put(List.of("optimize..x=1"), "key 'optimize..x' has an empty part");
        cases.forEach((overrides, message) -> {
            var e = assertThrows(InvalidOptionException.class, () -> RecipeOverrides.apply(base, overrides, loader));
            assertTrue(
                    e.getMessage().startsWith("override '" + overrides.get(overrides.size() - 1) + "': ")
                            && e.getMessage().contains(message),
                    e.getMessage());
        });
    }
}
