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
        Recipe r = RecipeOverrides.apply(base, List.of("optimize.spy-opt.iterations=7", "postprocess.0.mode=careful",
                "quantization.weight_bits=4", "seed=9", "calibration.size=256",
                "quantization.overrides=[{layer: fc, weight_bits: 8}]"), loader);
        assertEquals(7, ((Fakes.SpyOptions) r.optimize().get(0).options()).iterations());
        assertEquals(Fakes.Mode.CAREFUL, ((Fakes.SpyOptions) r.postprocess().get(0).options()).mode());
        assertEquals("tune", ((Fakes.SpyOptions) r.postprocess().get(0).options()).label());
        assertEquals(4, r.quantization().weightBits());
        assertEquals(9, r.seed());
        assertEquals(256, r.calibration().size());
        assertEquals("fc", r.quantization().overrides().get(0).layer());
    }

    @Test
    void badOverridesGetTheRecipesMessages() {
        var typo = assertThrows(OptionsException.class,
                () -> RecipeOverrides.apply(base, List.of("optimize.spy-opt.iteratons=7"), loader));
        assertTrue(typo.getMessage().contains("unknown key 'iteratons' (did you mean 'iterations'?)"), typo.getMessage());
        var range = assertThrows(OptionsException.class,
                () -> RecipeOverrides.apply(base, List.of("quantization.weight_bits=17"), loader));
        assertTrue(range.getMessage().contains("key 'weight_bits': must be <= 8, found 17"), range.getMessage());
        var step = assertThrows(InvalidOptionException.class,
                () -> RecipeOverrides.apply(base, List.of("optimize.round.iterations=7"), loader));
        assertEquals("override 'optimize.round.iterations=7': no step uses plugin 'round'; the steps are [spy-opt]"
                + " (by name or index)", step.getMessage());
        var form = assertThrows(InvalidOptionException.class, () -> RecipeOverrides.apply(base, List.of("seed"), loader));
        assertTrue(form.getMessage().startsWith("override 'seed': expected key=value"), form.getMessage());
    }
}
