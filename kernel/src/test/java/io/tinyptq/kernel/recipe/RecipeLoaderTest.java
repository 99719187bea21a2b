package io.tinyptq.kernel.recipe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyptq.api.TinyPtqException;
import io.tinyptq.api.quant.Granularity;
import io.tinyptq.api.quant.QuantScheme;
import io.tinyptq.kernel.fakes.Fakes;
import io.tinyptq.kernel.fakes.Fakes.SpyOptions;
import io.tinyptq.kernel.options.OptionsException;
import io.tinyptq.kernel.registry.PluginRegistry;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RecipeLoaderTest {
    private final PluginRegistry registry = Fakes.registry();
    private final RecipeLoader loader = new RecipeLoader(registry);

    private static final String GOOD = """
            name: spy-recipe
            description: every stage
            seed: 7
            calibration: {size: 64, batch_size: 16}
            quantization:
              weight_bits: 4
              activation_bits: 6
              overrides:
                - layer: conv
                  weight_bits: 8
            backend: reference
            preprocess: [spy-pre]
            init: {weights: absmax, activations: absmax}
            optimize:
              - plugin: spy-opt
                options:
                  iterations: 5
                  mode: careful
                  skip: [fc]
            postprocess:
              - spy-post
            """;

    @Test
    void loadsARecipeAndFillsDefaults() {
        Recipe r = loader.load(GOOD, "good.yaml");
        assertEquals("spy-recipe", r.name());
        assertEquals(7, r.seed());
        assertEquals(new Calibration(64, 16), r.calibration());
        assertEquals(4, r.quantization().weightBits());
        assertEquals(8, r.quantization().inputBits());
        assertEquals(Granularity.PER_CHANNEL, r.quantization().weightGranularity());
        assertEquals(
                new QuantScheme.LayerBits("conv", 8, null),
                r.quantization().overrides().get(0));
        SpyOptions o = (SpyOptions) r.optimize().get(0).options();
        assertEquals(new SpyOptions(5, 0.001, Fakes.Mode.CAREFUL, false, "spy", null, List.of("fc")), o);
        assertEquals(SpyOptions.DEFAULTS, r.preprocess().get(0).options());
        assertNull(o.cap());
    }

    @Test
    void calibrationAugmentIsReadAndAWrongValueListsTheKnownOnes() {
        Recipe r = loader.load(
                "name: a\nbackend: reference\ninit: absmax\ncalibration: {size: 64, augment: hflip}\n", "a.yaml");
        assertEquals(new Calibration(64, 32, CalibrationAugment.HFLIP), r.calibration());
        var e = assertThrows(
                OptionsException.class,
                () -> loader.load(
                        "name: a\nbackend: reference\ninit: absmax\ncalibration: {augment: flip}\n", "b.yaml"));
        assertEquals(
                "b.yaml:4:24: section 'calibration', key 'augment': expected one of [none, hflip], found the"
                        + " string 'flip'",
                e.problems().get(0).toString());
    }

    @Test
    void misspelledKeyGivesLineColumnAndKnownKeys() {
        String yaml = """
                name: typo
                optimize:
                  - plugin: spy-opt
                    options:
                      iteratons: 5
                """;
        var e = assertThrows(OptionsException.class, () -> loader.load(yaml, "typo.yaml"));
        assertEquals(
                "typo.yaml:5:7: stage optimize[0], plugin 'spy-opt': unknown key 'iteratons' (did you mean"
                        + " 'iterations'?); known keys: iterations, learning_rate, mode, verbose, label, cap, skip",
                e.getMessage());
    }

    private static final String BASE = "name: x\nbackend: reference\ninit: {weights: absmax, activations: absmax}\n";

    @Test
    void targetTfliteRefusesWhatInt8TensorsCannotHoldAtLoad() {
        var e = assertThrows(
                OptionsException.class,
                () -> loader.load(
                        BASE + "quantization: {target: tflite," + " input_bits: 12, weight_symmetry: asymmetric}\n",
                        "t.yaml"));
        assertTrue(
                e.getMessage()
                        .contains("key 'input_bits': target tflite stores activations and the model input"
                                + " in int8 tensors: 8 bits or fewer expected, got 12"),
                e.getMessage());
        assertTrue(
                e.getMessage().contains("key 'weight_symmetry': target tflite needs symmetric weights"),
                e.getMessage());
        assertEquals(
                io.tinyptq.api.quant.QuantTarget.TFLITE,
                loader.load(
                                BASE + "quantization: {target: tflite," + " weight_bits: 3, activation_bits: 4}\n",
                                "ok.yaml")
                        .quantization()
                        .target());
        assertEquals(
                io.tinyptq.api.quant.QuantTarget.SIMULATED,
                loader.load(BASE, "d.yaml").quantization().target(),
                "the paper's placement by default");
    }

    @Test
    void misspelledTopLevelKeyListsRecipeKeys() {
        var e = assertThrows(OptionsException.class, () -> loader.load("name: x\npreproces: []\n", "top.yaml"));
        assertEquals(
                "top.yaml:2:1: recipe: unknown key 'preproces' (did you mean 'preprocess'?); known keys: name,"
                        + " description, seed, calibration, quantization, backend, preprocess, init, optimize, postprocess",
                e.getMessage());
    }

    @Test
    void unknownPluginListsTheKnownOnes() {
        var e = assertThrows(
                OptionsException.class,
                () -> loader.load("optimize: [adaround]\nbackend: reference\ninit: absmax\n", "p.yaml"));
        assertEquals(
                "p.yaml:1:12: stage optimize[0], key 'plugin': unknown optimize plugin 'adaround'; known optimize"
                        + " plugins: [spy-opt]. A plugin outside tinyptq is found when its jar is on the class path or module path",
                e.getMessage());
    }

    @Test
    void outOfRangeValueNamesStagePluginKeyRuleAndValue() {
        String yaml = """
                backend: reference
                init: absmax
                optimize:
                  - plugin: spy-opt
                    options: {iterations: 0, learning_rate: -0.5}
                """;
        var e = assertThrows(OptionsException.class, () -> loader.load(yaml, "range.yaml"));
        assertEquals("""
                range.yaml: 2 problems:
                  range.yaml:5:27: stage optimize[0], plugin 'spy-opt', key 'iterations': must be >= 1, found 0
                  range.yaml:5:45: stage optimize[0], plugin 'spy-opt', key 'learning_rate': must be >= 0, found -0.5""", e.getMessage());
    }

    @Test
    void wrongTypesAreNamed() {
        String yaml = """
                backend: reference
                init: absmax
                quantization: {weight_bits: four}
                optimize:
                  - plugin: spy-opt
                    options: {mode: reckless, verbose: 3, label: 12}
                """;
        var e = assertThrows(OptionsException.class, () -> loader.load(yaml, "types.yaml"));
        List<String> lines = e.problems().stream().map(Object::toString).toList();
        assertEquals(
                List.of(
                        "types.yaml:3:29: section 'quantization', key 'weight_bits': expected an integer, found the string 'four'",
                        "types.yaml:6:21: stage optimize[0], plugin 'spy-opt', key 'mode': expected one of [fast, careful], found"
                                + " the string 'reckless'",
                        "types.yaml:6:40: stage optimize[0], plugin 'spy-opt', key 'verbose': expected true or false, found the"
                                + " number 3",
                        "types.yaml:6:50: stage optimize[0], plugin 'spy-opt', key 'label': expected a string, found the number 12"),
                lines);
    }

    @Test
    void bitWidthsOutsideTwoToEightAreRejected() {
        var e = assertThrows(
                OptionsException.class,
                () -> loader.load("backend: reference\ninit: absmax\nquantization: {weight_bits: 1}\n", "bits.yaml"));
        assertEquals(
                "bits.yaml:3:29: section 'quantization', key 'weight_bits': must be >= 2, found 1", e.getMessage());
    }

    @Test
    void duplicateKeysAndBadYamlAreReportedWithPositions() {
        var dup = assertThrows(RuntimeException.class, () -> loader.load("seed: 1\nseed: 2\n", "dup.yaml"));
        assertEquals("dup.yaml:2:1: key 'seed' appears twice (first at line 1)", dup.getMessage());
        var bad = assertThrows(RuntimeException.class, () -> loader.load("optimize: [a, b\n", "bad.yaml"));
        assertTrue(bad.getMessage().startsWith("bad.yaml:"), bad.getMessage());
        assertTrue(bad.getMessage().contains("not valid YAML"), bad.getMessage());
    }

    @Test
    void aSeedPastLongsRangeOrAMissingFileIsNamed(@TempDir Path dir) {
        var seed = assertThrows(
                OptionsException.class,
                () -> loader.load("backend: reference\ninit: absmax\nseed: 99999999999999999999999\n", "seed.yaml"));
        assertEquals(
                "seed.yaml:3:7: recipe, key 'seed': expected an integer in range [-9223372036854775808,"
                        + " 9223372036854775807], found the number 99999999999999999999999",
                seed.getMessage());
        Path missing = dir.resolve("none.yaml");
        var file = assertThrows(TinyPtqException.class, () -> loader.load(missing));
        assertEquals("recipe file " + missing + " does not exist", file.getMessage());
    }

    @Test
    void javaBuiltRecipesPassTheSameValidation() {
        var e = assertThrows(
                OptionsException.class,
                () -> Recipe.builder("code")
                        .backend("reference", null)
                        .initWeights("absmax", null)
                        .initActivations("absmax", null)
                        .optimize("spy-opt", new SpyOptions(0, 0.1, Fakes.Mode.FAST, false, "ok", null, List.of()))
                        .build(registry));
        assertEquals("stage optimize[0], plugin 'spy-opt', key 'iterations': must be >= 1, found 0", e.getMessage());
    }

    @Test
    void javaBuiltRecipesMayOnlyUseKnownPlugins() {
        var e = assertThrows(
                OptionsException.class,
                () -> Recipe.builder("code")
                        .backend("reference", null)
                        .initWeights("absmax", null)
                        .initActivations("minmx", null)
                        .build(registry));
        assertTrue(
                e.getMessage().startsWith("stage init.activations, key 'plugin': unknown init plugin 'minmx'"),
                e.getMessage());
    }

    @Test
    void resolvedRecipeRoundTripsThroughYaml() {
        Recipe r = loader.load(GOOD, "good.yaml");
        String yaml = RecipeWriter.toYaml(r);
        assertEquals(r, loader.load(yaml, "written.yaml"));
        assertTrue(yaml.contains("learning_rate: 0.001"), yaml);
        assertTrue(yaml.contains("mode: careful"), yaml);
    }

    /**
     * Input is bounded while it is read: a 3-million-character value fails at once with one line (it once ran for
     * minutes at gigabytes of memory), and what YAML allows but recipes do not need is refused, not misread: an alias
     * (once read as the alias text) and a second document (once ignored).
     */
    @Test
    void oversizedInputAliasesAndSecondDocumentsAreRefused() {
        RecipeLoader loader = new RecipeLoader(Fakes.registry());
        String huge = "name: \"" + "x".repeat(3_000_000) + "\"\n";
        var e = assertThrows(io.tinyptq.api.TinyPtqException.class, () -> loader.load(huge, "huge.yaml"));
        assertTrue(
                e.getMessage().startsWith("huge.yaml")
                        && e.getMessage().contains("longer than 1048576 characters")
                        && e.getMessage().lines().count() == 1,
                e.getMessage());

        var alias = assertThrows(
                io.tinyptq.api.TinyPtqException.class,
                () -> loader.load("name: &n a\ndescription: *n\n", "alias.yaml"));
        assertTrue(
                alias.getMessage().startsWith("alias.yaml:2:")
                        && alias.getMessage().contains("YAML alias '*n' is" + " not supported"),
                alias.getMessage());

        var twice = assertThrows(
                io.tinyptq.api.TinyPtqException.class, () -> loader.load("name: a\n---\nname: b\n", "two.yaml"));
        assertTrue(
                twice.getMessage().startsWith("two.yaml:") && twice.getMessage().contains("a second YAML document"),
                twice.getMessage());
    }
}
