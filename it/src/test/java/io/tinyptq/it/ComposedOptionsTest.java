package io.tinyptq.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tinyptq.api.spi.TrainingOps;
import io.tinyptq.kernel.Kernel;
import io.tinyptq.kernel.options.OptionsException;
import io.tinyptq.kernel.recipe.Recipe;
import io.tinyptq.kernel.recipe.RecipeOverrides;
import io.tinyptq.plugins.optimize.Granularity;
import io.tinyptq.plugins.optimize.QParamOptimizer;
import io.tinyptq.plugins.optimize.ReconstructionLoss;
import io.tinyptq.plugins.optimize.RoundingOptimizer;
import io.tinyptq.plugins.optimize.UnitActivations;
import io.tinyptq.recipes.BundledRecipes;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The reconstruction plugins' options are composed of nested records: given in part they keep their defaults,
 * {@code --set} reaches into them, keys that act only through another fail at load naming both, and the methods
 * built on AdaRound are bundled recipes with the settings their papers give.
 */
class ComposedOptionsTest {
    private static final Kernel KERNEL = Kernel.discover();

    private static String recipe(String roundOptions) {
        return """
                name: composed
                quantization: {weight_bits: 4, activation_bits: 4}
                backend: cpu
                init: {weights: mse, activations: mse}
                optimize:
                  - plugin: round
                    options: %s
                """.formatted(roundOptions);
    }

    private static RoundingOptimizer.Options round(Recipe r) {
        return (RoundingOptimizer.Options) r.optimize().get(0).options();
    }

    @Test
    void aNestedRecordGivenInPartKeepsTheDefaultsOfTheKeysItLeavesOut() {
        var o = round(KERNEL.recipes()
                .load(recipe("{activations: {learning_rate: 4.0e-5}, regularizer: {lambda: 0.02}}"), "partial.yaml"));
        assertEquals(new UnitActivations(true, 4e-5, 1, false), o.activations());
        assertEquals(new RoundingOptimizer.Regularizer(0.02, 20, 2, 0.2), o.regularizer());
        assertEquals(20_000, o.iterations());
    }

    @Test
    void setReachesIntoANestedRecord() {
        Recipe base = KERNEL.recipes().load(recipe("{iterations: 10}"), "base.yaml");
        var o = round(RecipeOverrides.apply(
                base,
                List.of("optimize.round.regularizer.beta_start=16", "optimize.round.activations.qdrop_probability=0.5"),
                KERNEL.recipes()));
        assertEquals(new RoundingOptimizer.Regularizer(0.01, 16, 2, 0.2), o.regularizer());
        assertEquals(UnitActivations.QUANTIZED.withQdropProbability(0.5), o.activations());
        assertEquals(10, o.iterations());
    }

    @Test
    void keysThatActOnlyThroughAnotherFailAtLoadNamingTheFileKeyAndFix() {
        var stepSizes = assertThrows(
                OptionsException.class,
                () -> KERNEL.recipes()
                        .load(recipe("{activations: {quantize: false, learning_rate: 4.0e-5}}"), "dependent.yaml"));
        assertTrue(
                stepSizes.getMessage().startsWith("dependent.yaml:7:")
                        && stepSizes.getMessage().contains("plugin 'round', key 'activations'")
                        && stepSizes.getMessage().contains("set quantize: true"),
                stepSizes.getMessage());
        var refine = assertThrows(
                OptionsException.class,
                () -> KERNEL.recipes().load(recipe("{loss: fisher, refine_sweeps: 10}"), "refine.yaml"));
        assertTrue(refine.getMessage().contains("loss: mse"), refine.getMessage());
        var lsq = assertThrows(
                OptionsException.class,
                () -> KERNEL.recipes()
                        .load(
                                recipe("{}")
                                        .replace("plugin: round", "plugin: qparam")
                                        .replace("options: {}", "options: {activations: {learning_rate: 1.0e-3}}"),
                                "lsq.yaml"));
        assertTrue(lsq.getMessage().contains("activations.learning_rate"), lsq.getMessage());
    }

    /**
     * The gradient of trained step sizes is a named operation: {@code qparam} chooses it for every step it trains,
     * the activation steps {@code round} trains keep LSQ's.
     */
    @Test
    void theStepSizeGradientIsChosenByName() {
        assertEquals(
                TrainingOps.LSQ_STEP,
                round(KERNEL.recipes().load(recipe("{}"), "default.yaml")).stepGradientOp());
        assertEquals(
                TrainingOps.LSQ_STEP,
                round(KERNEL.recipes().load(BundledRecipes.yaml("qdrop"), "qdrop"))
                        .stepGradientOp());
        Recipe lsq = KERNEL.recipes()
                .load(
                        recipe("{}")
                                .replace("plugin: round", "plugin: qparam")
                                .replace("options: {}", "options: {step_gradient: unscaled}"),
                        "lsq.yaml");
        assertEquals(
                TrainingOps.UNSCALED_STEP,
                ((QParamOptimizer.Options) lsq.optimize().get(0).options()).stepGradientOp());
    }

    @Test
    void brecqAndQdropAreBundledWithTheirPapersSettings() {
        var brecq = round(KERNEL.recipes().load(BundledRecipes.yaml("brecq"), "brecq"));
        assertEquals(Granularity.BLOCK, brecq.granularity());
        assertEquals(ReconstructionLoss.FISHER, brecq.loss());
        assertEquals(new UnitActivations(true, 4e-5, 1, true), brecq.activations());
        assertEquals(RoundingOptimizer.Regularizer.PAPER, brecq.regularizer());
        assertEquals(20_000, brecq.iterations());
        var qdrop = round(KERNEL.recipes().load(BundledRecipes.yaml("qdrop"), "qdrop"));
        assertEquals(Granularity.BLOCK, qdrop.granularity());
        assertEquals(ReconstructionLoss.MSE, qdrop.loss());
        assertEquals(new UnitActivations(true, 4e-5, 0.5, true), qdrop.activations());
        assertEquals(RoundingOptimizer.Regularizer.PAPER, qdrop.regularizer());
    }

    /** In the schema a nested record's keys carry their defaults and none is required, as the binder fills them. */
    @Test
    void theSchemaGivesNestedKeysTheirDefaults() throws Exception {
        JsonNode schema = new ObjectMapper().readTree(KERNEL.schema().generate());
        JsonNode regularizer = schema.findValues("regularizer").stream()
                .filter(n -> n.has("properties"))
                .findFirst()
                .orElseThrow();
        assertEquals(
                0.01,
                regularizer.path("properties").path("lambda").path("default").asDouble());
        assertFalse(regularizer.has("required"), regularizer.toString());
    }
}
