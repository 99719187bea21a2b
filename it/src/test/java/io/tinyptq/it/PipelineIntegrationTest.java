package io.tinyptq.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyptq.api.model.Model;
import io.tinyptq.api.spi.CalibrationSet;
import io.tinyptq.api.spi.ModelExecutor;
import io.tinyptq.kernel.Kernel;
import io.tinyptq.kernel.pipeline.PipelineResult;
import io.tinyptq.kernel.pipeline.RunOptions;
import io.tinyptq.kernel.recipe.Recipe;
import io.tinyptq.recipes.BundledRecipes;
import io.tinyptq.testkit.TinyModels;
import org.junit.jupiter.api.Test;

/**
 * The bundled {@code mse} recipe end to end with the discovered plugins and the CPU backend on a tiny model: the
 * quantized model's predictions agree with the float model's at 8 bits, and the provenance reloads.
 */
class PipelineIntegrationTest {

    @Test
    void bundledMseRecipeQuantizesATinyModel() {
        Kernel kernel = Kernel.discover();
        Model model = TinyModels.convNet(5);
        int n = 256;
        float[] data = TinyModels.uniform(6, n, model.shape("image"), -1f, 1f);
        Recipe recipe = kernel.recipes().load(BundledRecipes.yaml("mse"), "bundled:mse");
        Recipe small = new Recipe(
                recipe.name(),
                recipe.description(),
                3,
                new io.tinyptq.kernel.recipe.Calibration(128, 32),
                recipe.quantization(),
                recipe.backend(),
                recipe.preprocess(),
                recipe.initWeights(),
                recipe.initActivations(),
                recipe.optimize(),
                recipe.postprocess());
        PipelineResult result = kernel.runner()
                .run(
                        small,
                        model,
                        new CalibrationSet("uniform(seed 6)", model.shape("image"), data, new int[0]),
                        RunOptions.defaults());
        assertTrue(result.quantized().initialized());

        var backend = kernel.registry()
                .find(io.tinyptq.api.spi.PluginKind.BACKEND, "cpu", io.tinyptq.backend.cpu.CpuBackend.class);
        int agree = 0;
        try (ModelExecutor fp = backend.compile(model, null, n, backend.defaultOptions());
                ModelExecutor q = backend.compile(model, result.quantized(), n, backend.defaultOptions())) {
            float[] a = fp.forward(data, n, ModelExecutor.ActivationListener.NONE);
            float[] b = q.forward(data, n, ModelExecutor.ActivationListener.NONE);
            for (int i = 0; i < n; i++) {
                agree += argmax(a, i * 5, 5) == argmax(b, i * 5, 5) ? 1 : 0;
            }
        }
        assertTrue(agree >= 0.95 * n, "8-bit predictions agree on " + agree + "/" + n);
        assertEquals("cpu", result.provenance().backend().backend());
        assertEquals(small, kernel.recipes().load(result.provenance().recipeYaml(), "provenance"));
    }

    static int argmax(float[] v, int off, int len) {
        int best = 0;
        for (int i = 1; i < len; i++) {
            if (v[off + i] > v[off + best]) {
                best = i;
            }
        }
        return best;
    }
}
