package io.tinyptq.kernel.pipeline;

import io.tinyptq.api.TinyPtqException;
import io.tinyptq.api.model.BatchNormFolding;
import io.tinyptq.api.model.Model;
import io.tinyptq.api.model.Op;
import io.tinyptq.api.quant.QuantTarget;
import io.tinyptq.api.quant.QuantizedModel;
import io.tinyptq.api.quant.Quantizer;
import io.tinyptq.api.spi.ActivationObserver;
import io.tinyptq.api.spi.CalibrationSet;
import io.tinyptq.api.spi.ComputeBackend;
import io.tinyptq.api.spi.ModelExecutor;
import io.tinyptq.api.spi.Plugin;
import io.tinyptq.api.spi.PluginKind;
import io.tinyptq.api.spi.Postprocessor;
import io.tinyptq.api.spi.Preprocessor;
import io.tinyptq.api.spi.QuantOptimizer;
import io.tinyptq.api.spi.QuantizerInitializer;
import io.tinyptq.kernel.Versions;
import io.tinyptq.kernel.recipe.Recipe;
import io.tinyptq.kernel.recipe.RecipeValidator;
import io.tinyptq.kernel.recipe.RecipeWriter;
import io.tinyptq.kernel.recipe.Step;
import io.tinyptq.kernel.registry.PluginRegistry;
import jakarta.inject.Inject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Runs the four stages of the unified PTQ pipeline (Zhuo et al. 2022, Sec. 3.2) in order:
 * <ol>
 *   <li>preprocess the FP model with each preprocessing step;</li>
 *   <li>insert quantizers ({@link QuantizedModel#simulate}) and initialize them: weights from the tensors,
 *       activations from the FP model's activations on the calibration data, streamed batch by batch;</li>
 *   <li>run each optimization step;</li>
 *   <li>run each post-processing step.</li>
 * </ol>
 * Progress is reported per stage and unit of work; cancellation is checked between units, and a cancelled
 * run throws {@link io.tinyptq.api.CancelledException}. The result carries {@link Provenance}.
 */
public final class PipelineRunner {
    private final PluginRegistry registry;

    @Inject
    public PipelineRunner(PluginRegistry registry) {
        this.registry = registry;
    }

    public PipelineResult run(Recipe recipe, Model model, CalibrationSet calibration, RunOptions options) {
        Recipe r = RecipeValidator.resolve(recipe, registry, "recipe '" + recipe.name() + "'");
        Instant started = Instant.now();
        int samples = r.calibration().size();
        if (calibration.size() < samples) {
            throw new TinyPtqException("recipe '" + r.name() + "' asks for calibration.size = " + samples
                    + " samples but " + calibration.source() + " holds " + calibration.size()
                    + "; lower calibration.size or supply more data");
        }
        String input = model.inputs().keySet().iterator().next();
        if (!model.shape(input).equals(calibration.sampleShape())) {
            throw new TinyPtqException("calibration data from " + calibration.source() + " has samples of shape "
                    + calibration.sampleShape() + " but model '" + model.name() + "' input '" + input + "' expects "
                    + model.shape(input));
        }
        CalibrationSet calib = samples == calibration.size()
                ? calibration
                : new CalibrationSet(
                        calibration.source() + " (first " + samples + ")",
                        calibration.sampleShape(),
                        Arrays.copyOf(calibration.data(), samples * calibration.sampleSize()),
                        calibration.labels().length == 0 ? new int[0] : Arrays.copyOf(calibration.labels(), samples));
        calib = r.calibration().augment().apply(calib);

        ComputeBackend<?> backendPlugin =
                registry.find(PluginKind.BACKEND, r.backend().plugin(), ComputeBackend.class);
        RunContext ctx = new RunContext(
                r.seed(),
                calib,
                BoundBackends.forRun(registry, backendPlugin, r.backend().options(), options.progress()),
                options);
        List<Provenance.PluginUse> uses = new ArrayList<>();
        Map<String, Double> seconds = new LinkedHashMap<>();
        uses.add(use("backend", backendPlugin));

        long t0 = System.nanoTime();
        // Quantization sees the deployment graph: BatchNorm folded into the layers it follows, so the folded
        // weights are what the quantizers cover (as converters fold before int8 conversion).
        Model fp = BatchNormFolding.fold(model);
        if (fp != model) {
            options.progress()
                    .message("folded " + (model.ops().size() - fp.ops().size()) + " BatchNorm layer(s) into"
                            + " the layers before them");
        }
        BatchNormFolding.unfoldable(fp)
                .forEach((layer, why) ->
                        options.progress().message("BatchNorm '" + layer + "' stays unfolded and unquantized: " + why));
        for (Step s : r.preprocess()) {
            Preprocessor<Record> p = plugin(PluginKind.PREPROCESS, s, uses);
            ctx.enter("preprocess", p.name());
            options.progress().message("preprocess: " + p.name());
            fp = p.apply(fp, s.options(), ctx);
            ctx.checkCancelled();
        }
        seconds.put("preprocess", (System.nanoTime() - t0) / 1e9);

        t0 = System.nanoTime();
        QuantizedModel qm = QuantizedModel.simulate(fp, r.quantization());
        initWeights(
                qm,
                plugin(PluginKind.INIT, r.initWeights(), uses),
                r.initWeights().options(),
                ctx);
        initActivations(
                qm,
                plugin(PluginKind.INIT, r.initActivations(), uses),
                r.initActivations().options(),
                ctx,
                r.calibration().batchSize());
        seconds.put("init", (System.nanoTime() - t0) / 1e9);

        t0 = System.nanoTime();
        for (Step s : r.optimize()) {
            QuantOptimizer<Record> p = plugin(PluginKind.OPTIMIZE, s, uses);
            ctx.enter("optimize", p.name());
            options.progress().message("optimize: " + p.name());
            p.optimize(qm, s.options(), ctx);
            ctx.checkCancelled();
        }
        seconds.put("optimize", (System.nanoTime() - t0) / 1e9);

        t0 = System.nanoTime();
        for (Step s : r.postprocess()) {
            Postprocessor<Record> p = plugin(PluginKind.POSTPROCESS, s, uses);
            ctx.enter("postprocess", p.name());
            options.progress().message("postprocess: " + p.name());
            p.apply(qm, s.options(), ctx);
            ctx.checkCancelled();
        }
        seconds.put("postprocess", (System.nanoTime() - t0) / 1e9);
        double biasMoved = qm.finishForTarget();
        if (r.quantization().target() != QuantTarget.SIMULATED) {
            options.progress()
                    .message(String.format(
                            Locale.ROOT,
                            "target %s: zero points made integers, biases"
                                    + " moved onto their int32 grid (at most %.3f of a step)",
                            r.quantization().target().name().toLowerCase(Locale.ROOT),
                            biasMoved));
        }

        Provenance provenance = new Provenance(
                Versions.tinyptq(),
                Versions.java(),
                Versions.os(),
                started,
                r.seed(),
                r.name(),
                RecipeWriter.toYaml(r),
                model.name(),
                calib.source(),
                uses,
                ctx.backend().info(),
                seconds);
        return new PipelineResult(fp, qm, provenance);
    }

    private void initWeights(QuantizedModel qm, QuantizerInitializer<Record> init, Record opts, RunContext ctx) {
        ctx.enter("init", init.name());
        Map<String, Quantizer> quantizers = qm.weightQuantizers();
        int done = 0;
        for (var e : quantizers.entrySet()) {
            Op.Layer layer = (Op.Layer) qm.model().op(e.getKey());
            Quantizer q = e.getValue();
            q.setParams(init.initWeights(qm.model().constant(layer.weight()), q.spec(), opts));
            ctx.progress().progress("init weights (" + init.name() + ")", ++done, quantizers.size());
            ctx.checkCancelled();
        }
    }

    private void initActivations(
            QuantizedModel qm, QuantizerInitializer<Record> init, Record opts, RunContext ctx, int batchSize) {
        ctx.enter("init", init.name());
        Map<String, ActivationObserver> observers = new LinkedHashMap<>();
        qm.freeActivationQuantizers().forEach((t, q) -> observers.put(t, init.newObserver(q.spec(), opts)));
        CalibrationSet calib = ctx.calibration();
        int n = calib.size();
        int sample = calib.sampleSize();
        int batch = Math.min(batchSize, n);
        float[] buffer = new float[batch * sample];
        try (ModelExecutor exec = ctx.backend().compile(qm.model(), null, batch)) {
            for (int start = 0; start < n; start += batch) {
                int count = Math.min(batch, n - start);
                System.arraycopy(calib.data(), start * sample, buffer, 0, count * sample);
                exec.forward(buffer, count, (tensor, values, offset, length) -> {
                    ActivationObserver o = observers.get(tensor);
                    if (o != null) {
                        o.observe(values, offset, length);
                    }
                });
                ctx.progress().progress("init activations (" + init.name() + ")", start + count, n);
                ctx.checkCancelled();
            }
        }
        observers.forEach((t, o) -> qm.activationQuantizers().get(t).setParams(o.result()));
    }

    @SuppressWarnings("unchecked")
    private <T extends Plugin<Record>> T plugin(PluginKind kind, Step step, List<Provenance.PluginUse> uses) {
        Plugin<?> p = registry.find(kind, step.plugin());
        uses.add(use(kind.key(), p));
        return (T) p;
    }

    private static Provenance.PluginUse use(String stage, Plugin<?> p) {
        return new Provenance.PluginUse(stage, p.name(), p.getClass().getName(), p.version());
    }
}
