package io.tinyptq.kernel.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyptq.api.CancelledException;
import io.tinyptq.api.TinyPtqException;
import io.tinyptq.api.model.Model;
import io.tinyptq.api.model.Op;
import io.tinyptq.api.quant.FakeQuant;
import io.tinyptq.api.quant.QuantParams;
import io.tinyptq.api.quant.QuantizedModel;
import io.tinyptq.api.spi.CalibrationSet;
import io.tinyptq.api.spi.ProgressListener;
import io.tinyptq.kernel.fakes.Fakes;
import io.tinyptq.kernel.recipe.Calibration;
import io.tinyptq.kernel.recipe.CalibrationAugment;
import io.tinyptq.kernel.recipe.Recipe;
import io.tinyptq.kernel.recipe.RecipeLoader;
import io.tinyptq.kernel.registry.PluginRegistry;
import io.tinyptq.testkit.TinyModels;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class PipelineRunnerTest {
    private final PluginRegistry registry = Fakes.registry();
    private final Model model = TinyModels.convNet(1);
    private final CalibrationSet calibration = new CalibrationSet(
            "uniform(seed 2)",
            model.shape("image"),
            TinyModels.uniform(2, 40, model.shape("image"), -1f, 1f),
            new int[0]);

    private Recipe recipe(long seed) {
        return Recipe.builder("spy")
                .seed(seed)
                .calibration(new Calibration(32, 8))
                .backend("reference", null)
                .preprocess("spy-pre", null)
                .initWeights("absmax", null)
                .initActivations("absmax", null)
                .optimize("spy-opt", null)
                .postprocess("spy-post", null)
                .build(registry);
    }

    @BeforeEach
    void clear() {
        Fakes.CALLS.clear();
    }

    @Test
    void runsTheFourStagesInOrderOnAnInitializedModel() {
        PipelineResult result = new PipelineRunner(registry).run(recipe(3), model, calibration, RunOptions.defaults());
        assertEquals(3, Fakes.CALLS.size());
        assertEquals("preprocess:spy-pre:100", Fakes.CALLS.get(0));
        assertTrue(Fakes.CALLS.get(1).startsWith("optimize:spy-opt:initialized=true"), Fakes.CALLS.get(1));
        assertEquals("postprocess:spy-post", Fakes.CALLS.get(2));
        QuantizedModel qm = result.quantized();
        assertTrue(qm.initialized());
        // 6 layers with weights; activations: the image and each layer input (c1, d1 is read twice, p1... ) once.
        assertEquals(
                List.of("conv", "dw", "pw", "shortcut", "fc"),
                List.copyOf(qm.weightQuantizers().keySet()));
        assertEquals(
                List.of("image", "c1", "d1", "f1"),
                List.copyOf(qm.activationQuantizers().keySet()));
    }

    @Test
    void batchNormIsFoldedBeforeQuantizationAndTheUnfoldableOneIsReported() {
        Model bn = TinyModels.batchNormNet(3);
        CalibrationSet calib = new CalibrationSet(
                "uniform(seed 4)",
                bn.shape("image"),
                TinyModels.uniform(4, 40, bn.shape("image"), -1f, 1f),
                new int[0]);
        List<String> messages = new ArrayList<>();
        RunOptions options = new RunOptions(
                new io.tinyptq.api.spi.ProgressListener() {
                    @Override
                    public void progress(String task, long done, long total) {}

                    @Override
                    public void message(String text) {
                        messages.add(text);
                    }
                },
                new io.tinyptq.kernel.pipeline.CancellationToken(),
                null);
        QuantizedModel qm =
                new PipelineRunner(registry).run(recipe(3), bn, calib, options).quantized();
        // bn1, bn2 and bn4 fold into conv, dw and fc; bn3 follows an add and stays, unquantized.
        assertEquals(
                List.of("conv", "dw", "add", "bn3", "gap", "fc"),
                qm.model().ops().stream().map(Op::name).toList());
        assertEquals(
                List.of("conv", "dw", "fc"), List.copyOf(qm.weightQuantizers().keySet()));
        assertTrue(messages.contains("folded 3 BatchNorm layer(s) into the layers before them"), messages.toString());
        assertTrue(
                messages.stream().anyMatch(m -> m.startsWith("BatchNorm 'bn3' stays unfolded")), messages.toString());
    }

    @Test
    void activationRangesComeFromTheFirstCalibrationSamplesOnly() {
        PipelineResult result = new PipelineRunner(registry).run(recipe(3), model, calibration, RunOptions.defaults());
        // The image quantizer saw exactly the first 32 samples: compute their range directly.
        float[] data = calibration.data();
        int n = 32 * model.shape("image").size();
        float lo = 0;
        float hi = 0;
        for (int i = 0; i < n; i++) {
            lo = Math.min(lo, data[i]);
            hi = Math.max(hi, data[i]);
        }
        float[] sz = FakeQuant.asymmetricFromRange(lo, hi, io.tinyptq.api.quant.IntegerGrid.unsigned(8));
        assertEquals(
                new QuantParams(new float[] {sz[0]}, new float[] {sz[1]}),
                result.quantized().activationQuantizers().get("image").params());
    }

    @Test
    void provenanceRecordsRecipeSeedPluginsAndBackend() {
        Provenance p = new PipelineRunner(registry)
                .run(recipe(11), model, calibration, RunOptions.defaults())
                .provenance();
        assertEquals(11, p.seed());
        assertEquals("reference", p.backend().backend());
        assertEquals(
                List.of(
                        "backend/reference",
                        "preprocess/spy-pre",
                        "init/absmax",
                        "init/absmax",
                        "optimize/spy-opt",
                        "postprocess/spy-post"),
                p.plugins().stream().map(u -> u.stage() + "/" + u.name()).toList());
        assertEquals("dev", p.plugins().get(1).version());
        Recipe back = new RecipeLoader(registry).load(p.recipeYaml(), "provenance.yaml");
        assertEquals(recipe(11), back);
        assertEquals("convnet", p.model());
        assertTrue(p.calibrationSource().contains("first 32"), p.calibrationSource());
    }

    @Test
    void randomStreamsAreReproducibleFromTheSeed() {
        var runner = new PipelineRunner(registry);
        runner.run(recipe(5), model, calibration, RunOptions.defaults());
        runner.run(recipe(5), model, calibration, RunOptions.defaults());
        runner.run(recipe(6), model, calibration, RunOptions.defaults());
        assertEquals(Fakes.CALLS.get(1), Fakes.CALLS.get(4));
        assertNotEquals(Fakes.CALLS.get(1), Fakes.CALLS.get(7));
    }

    @Test
    void reportsProgressAndCanBeCancelledBetweenUnits() {
        CancellationToken token = new CancellationToken();
        List<String> events = new ArrayList<>();
        ProgressListener listener = new ProgressListener() {
            @Override
            public void progress(String task, long done, long total) {
                events.add(task + " " + done + "/" + total);
                if (task.equals("spy units") && done == 2) {
                    token.cancel("user pressed Ctrl-C");
                }
            }

            @Override
            public void message(String text) {
                events.add(text);
            }
        };
        var e = assertThrows(
                CancelledException.class,
                () -> new PipelineRunner(registry)
                        .run(recipe(1), model, calibration, new RunOptions(listener, token, null)));
        assertEquals("cancelled during optimize/spy-opt: user pressed Ctrl-C", e.getMessage());
        assertTrue(events.contains("init weights (absmax) 5/5"), events.toString());
        assertTrue(events.contains("init activations (absmax) 32/32"), events.toString());
        assertEquals("spy units 2/3", events.get(events.size() - 1));
        assertEquals(List.of("preprocess:spy-pre:100"), Fakes.CALLS.subList(0, 1));
    }

    @Test
    void mirroredCalibrationImagesDoubleWhatEveryStageSees() {
        Recipe r = recipe(1);
        Recipe flipped = r.withCalibration(new Calibration(32, 8, CalibrationAugment.HFLIP));
        List<String> events = new ArrayList<>();
        PipelineResult result = new PipelineRunner(registry)
                .run(
                        flipped,
                        model,
                        calibration,
                        new RunOptions(
                                new ProgressListener() {
                                    @Override
                                    public void progress(String task, long done, long total) {
                                        events.add(task + " " + done + "/" + total);
                                    }

                                    @Override
                                    public void message(String text) {
                                        events.add(text);
                                    }
                                },
                                new CancellationToken(),
                                null));
        assertTrue(events.contains("init activations (absmax) 64/64"), events.toString());
        assertEquals(
                "uniform(seed 2) (first 32) + left-right mirrors (64 samples)",
                result.provenance().calibrationSource());
    }

    @Test
    void tooFewCalibrationSamplesFailBeforeAnyWork() {
        Recipe r = recipe(1).withSeed(1);
        Recipe big = new Recipe(
                r.name(),
                r.description(),
                r.seed(),
                new Calibration(1024, 32),
                r.quantization(),
                r.backend(),
                r.preprocess(),
                r.initWeights(),
                r.initActivations(),
                r.optimize(),
                r.postprocess());
        var e = assertThrows(
                TinyPtqException.class,
                () -> new PipelineRunner(registry).run(big, model, calibration, RunOptions.defaults()));
        assertEquals(
                "recipe 'spy' asks for calibration.size = 1024 samples but uniform(seed 2) holds 40; lower"
                        + " calibration.size or supply more data",
                e.getMessage());
        assertTrue(Fakes.CALLS.isEmpty());
    }
}
