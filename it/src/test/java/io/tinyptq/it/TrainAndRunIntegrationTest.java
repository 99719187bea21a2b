package io.tinyptq.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tinyptq.api.spi.ComputeBackend;
import io.tinyptq.api.spi.PluginKind;
import io.tinyptq.api.spi.ProgressListener;
import io.tinyptq.kernel.Kernel;
import io.tinyptq.kernel.pipeline.BoundBackends;
import io.tinyptq.kernel.pipeline.CancellationToken;
import io.tinyptq.kernel.pipeline.RunOptions;
import io.tinyptq.kernel.recipe.Recipe;
import io.tinyptq.kernel.recipe.RecipeOverrides;
import io.tinyptq.kernel.run.PtqRun;
import io.tinyptq.kernel.run.RunReport;
import io.tinyptq.kernel.run.RunRequest;
import io.tinyptq.kernel.store.QuantizedModelStore;
import io.tinyptq.kernel.train.Trainer;
import io.tinyptq.recipes.BundledRecipes;
import io.tinyptq.zoo.SyntheticShapes;
import io.tinyptq.zoo.Zoo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedded default end to end, without external data: train the toy CNN on generated shapes, store it, and
 * quantize it with bundled recipes through the run service, checking the accuracy and the files a run writes.
 */
class TrainAndRunIntegrationTest {

    @Test
    void trainStoreQuantizeAndReport(@TempDir Path dir) throws Exception {
        Kernel k = Kernel.discover();
        var cpu = BoundBackends.withDefaults(k.registry().find(PluginKind.BACKEND, "cpu", ComputeBackend.class));
        Trainer.Result trained = Trainer.train(
                cpu,
                Zoo.build("toy-cnn", 1),
                SyntheticShapes.of("train", 3000, 2022, 0),
                new Trainer.Settings(6, 3e-3, 32, 0.1, 3, 1),
                ProgressListener.NONE,
                new CancellationToken());
        assertTrue(trained.bestValidationAccuracy() >= 95, "validation accuracy " + trained.bestValidationAccuracy());
        Path model = dir.resolve("toy");
        QuantizedModelStore.save(trained.model(), null, model);

        Path datasets = Files.createDirectories(dir.resolve("datasets"));
        Files.writeString(
                datasets.resolve("shapes-test.yaml"), "layout: synthetic\ncount: 1000\nseed: 2022\nfirst: 100000\n");
        Files.writeString(datasets.resolve("shapes-train.yaml"), "layout: synthetic\ncount: 3000\nseed: 2022\n");

        Recipe mse = RecipeOverrides.apply(
                k.recipes().load(BundledRecipes.yaml("mse"), "bundled:mse"),
                List.of("calibration.size=256"),
                k.recipes());
        Path out = dir.resolve("out");
        RunReport w8 = new PtqRun(k.registry(), k.runner())
                .run(
                        new RunRequest(mse, model, "shapes-test", "shapes-train", dir, datasets, out, 0),
                        RunOptions.defaults());
        assertEquals(1000, w8.evalSamples());
        assertTrue(Math.abs(w8.fpAccuracy() - w8.accuracy()) <= 1.0, w8.text());
        for (String f : List.of("report.txt", "report.json", "encodings.json", "provenance.yaml", "model/model.json")) {
            assertTrue(Files.exists(out.resolve(f)), f);
        }
        JsonNode json = new ObjectMapper().readTree(out.resolve("report.json").toFile());
        assertEquals(w8.accuracy(), json.path("accuracy").asDouble());
        assertTrue(json.path("provenance").path("recipe_yaml").asText().contains("calibration:"));
        // The stored quantized model evaluates to the reported accuracy.
        var stored = QuantizedModelStore.load(out.resolve("model"));
        double again = io.tinyptq.kernel.eval.Evaluator.run(
                        cpu,
                        stored.model(),
                        stored.quantized(),
                        SyntheticShapes.of("t", 1000, 2022, 100000),
                        64,
                        0,
                        ProgressListener.NONE)
                .accuracy();
        assertEquals(w8.accuracy(), again, 1e-9);

        // Without --calib-data the calibration samples come out of the evaluation set.
        RunReport split = new PtqRun(k.registry(), k.runner())
                .run(new RunRequest(mse, model, "shapes-test", null, dir, datasets, null, 0), RunOptions.defaults());
        assertEquals(1000 - 256, split.evalSamples());
    }
}
