package io.tinyptq.plugins.optimize;

import io.tinyptq.api.TinyPtqException;
import io.tinyptq.api.model.Model;
import io.tinyptq.api.model.Op;
import io.tinyptq.api.model.Unit;
import io.tinyptq.api.model.Units;
import io.tinyptq.api.quant.QuantizedModel;
import io.tinyptq.api.spi.CalibrationSet;
import io.tinyptq.api.spi.LearningRates;
import io.tinyptq.api.spi.ModelExecutor;
import io.tinyptq.api.spi.StageContext;
import io.tinyptq.api.spi.StepControl;
import io.tinyptq.api.spi.TrainingOps;
import io.tinyptq.api.spi.TrainingProblem;
import io.tinyptq.api.spi.TrainingSession;
import io.tinyptq.api.spi.TrainingSettings;
import io.tinyptq.api.spi.Variable;
import java.nio.file.Files;
import java.util.List;
import java.util.Set;

/**
 * The reconstruction driver shared by the gradient-based optimizers (Zhuo et al. 2022, Figure 3): units are
 * optimized one after another in graph order; each unit's input is the output of the already-quantized
 * preceding model on the calibration data, its target the full-precision unit output on full-precision inputs,
 * its loss the output MSE. A finished unit is committed (frozen) and checkpointed; a resumed run loads
 * checkpoints of finished units and continues with the next, giving the result of an uninterrupted run because
 * each unit draws its mini-batches from a generator seeded by the run seed and the unit's name only.
 *
 * <p>Memory: a unit's cached inputs and targets take {@code 4 (in + out) N} bytes for N calibration samples (more
 * with QDrop's second input copy or Fisher weights).
 * When that exceeds {@code maxCacheMb}, the unit uses the first {@code N'} samples that fit (reported), so the
 * cache stays bounded whatever the model and calibration size.
 */
final class Reconstruction {
    /** Steps between progress reports and cancellation checks. */
    static final int CHUNK = 100;

    /** What one optimizer plugin needs from the driver. */
    interface Schedule {
        /** No hyperparameters: the optimizers without a rounding operation. */
        Schedule NONE = (from, to, total, outputChannels) -> StepControl.NONE;

        /**
         * The control of steps {@code [from, to)} of {@code total} (one {@link TrainingSession#run} call) for a unit
         * with {@code outputChannels} output channels.
         */
        StepControl steps(int from, int to, int total, int outputChannels);
    }

    /**
     * One plugin's run of the driver.
     *
     * @param plugin           the plugin's name (progress, checkpoints)
     * @param options          the plugin's options: what every reconstruction plugin shares is read through
     *                         {@link ReconstructionOptions}, and the whole record (the plugin's own keys included) is
     *                         part of the checkpoints' key
     * @param variables        what each unit trains
     * @param schedule         the hyperparameters of each run call ({@link Schedule#NONE} where there are none)
     * @param refineSweeps     above 0, each unit's hardened rounding is refined by exact coordinate descent for at
     *                         most this many passes where the unit ends in a rounded fully-connected layer
     *                         ({@link RoundingRefinement})
     * @param biasLearningRate the biases' own Adam step size where they train ({@link TrainingSettings}); 0 = the
     *                         variables' learning rate
     */
    record Settings(
            String plugin,
            ReconstructionOptions options,
            Set<Variable> variables,
            Schedule schedule,
            int refineSweeps,
            double biasLearningRate) {

        /** A run without hyperparameters, refinement or a bias learning rate of its own. */
        Settings(String plugin, ReconstructionOptions options, Set<Variable> variables) {
            this(plugin, options, variables, Schedule.NONE, 0, 0);
        }

        Granularity granularity() {
            return options.granularity();
        }

        int iterations() {
            return options.iterations();
        }

        boolean quantizeActivations() {
            return options.activations().quantize();
        }

        /** The activation step sizes' learning rate (0: fixed), see {@link UnitActivations#learningRate}. */
        double activationLearningRate() {
            return options.activations().learningRate();
        }

        /** QDrop's probability that an input element stays quantized, see {@link UnitActivations}. */
        double quantizedInputProbability() {
            return options.activations().qdropProbability();
        }

        boolean quantizeOutput() {
            return options.activations().quantizeOutput();
        }

        ReconstructionLoss loss() {
            return options.loss();
        }
    }

    private Reconstruction() {}

    /** Optimizes every unit of {@code qm} in graph order. */
    static void run(QuantizedModel qm, Settings s, StageContext ctx) {
        Model fp = qm.model();
        List<Unit> units = switch (s.granularity()) {
            case LAYER -> Units.layers(fp);
            case BLOCK -> Units.blocks(fp);
            case MODEL -> List.of(wholeModel(fp, s.plugin()));
        };
        CalibrationSet calib = ctx.calibration();
        Checkpoints checkpoints = ctx.workDir()
                .map(d -> Checkpoints.forRun(
                        d.resolve("checkpoints"), s.plugin(), s.options().toString(), ctx.seed(), calib, qm))
                .orElse(null);
        if (checkpoints != null
                && !Files.isDirectory(checkpoints.dir())
                && !checkpoints.others().isEmpty()) {
            ctx.progress()
                    .message(s.plugin() + ": the run directory's checkpoints " + checkpoints.others()
                            + " were made with other options, seed or data; they stay, and this run starts afresh in "
                            + checkpoints.dir());
        }
        // Targets come from the full-precision model, not from qm.model(): after an earlier weight-changing stage
        // that holds rounded weights.
        Model fpModel = qm.reference();
        Set<String> trainedActivations = new java.util.HashSet<>();
        for (int u = 0; u < units.size(); u++) {
            Unit unit = units.get(u);
            String task = s.plugin() + " " + (u + 1) + "/" + units.size() + " " + unit.name();
            Model slice = Units.slice(qm.model(), unit);
            if (s.quantizeOutput() && qm.activationQuantizers().containsKey(unit.output())) {
                slice = withOutputQuantized(slice, unit.output());
            }
            QuantizedModel part = qm.restrict(slice);
            Set<String> scales = activationScales(s, unit, part, trainedActivations);
            trainedActivations.addAll(scales);
            if (checkpoints != null && restore(checkpoints, u, unit, qm, task, ctx)) {
                ctx.progress().message(task + ": restored from checkpoint");
                continue;
            }
            int inSize = slice.shape(unit.input()).size();
            int outSize = slice.shape(unit.output()).size();
            boolean qdrop = s.quantizedInputProbability() < 1;
            // inputs (twice with QDrop's full-precision copy), targets, and Fisher weights of the targets' size
            long perSample =
                    4L * ((qdrop ? 2L : 1L) * inSize + (s.loss() != ReconstructionLoss.MSE ? 2L : 1L) * outSize);
            int n = (int)
                    Math.min(calib.size(), Math.max(1, (long) s.options().maxCacheMb() * 1024 * 1024 / perSample));
            if (n < calib.size()) {
                ctx.progress()
                        .message(task + ": cache limit " + s.options().maxCacheMb() + " MiB holds " + n + " of "
                                + calib.size() + " samples");
            }
            // The unit's input as the quantized preceding model produces it, before the unit's own input quantizer,
            // which the unit applies (and may train) itself.
            float[] inputs = capture(
                    ctx,
                    qm.model(),
                    qm.withoutActivationQuantizers(Set.of(unit.input())),
                    unit.input(),
                    calib,
                    n,
                    inSize);
            float[] targets = capture(ctx, fpModel, null, unit.output(), calib, n, outSize);
            long weighing = System.nanoTime();
            float[] fisher = switch (s.loss()) {
                case MSE -> null;
                case FISHER ->
                    fisherWeights(
                            ctx, qm, fpModel, units, u, calib, n, s.options().batchSize(), s.quantizeActivations());
            };
            if (fisher != null) {
                ctx.progress()
                        .message(String.format(
                                java.util.Locale.ROOT,
                                "%s: %s loss weights in %.1f s",
                                task,
                                s.loss().name().toLowerCase(java.util.Locale.ROOT),
                                (System.nanoTime() - weighing) / 1e9));
            }
            TrainingProblem problem = new TrainingProblem(
                            part, s.variables(), inputs, targets, n, s.quantizeActivations(), fisher)
                    .withStepGradient(s.options().stepGradientOp());
            if (qdrop) {
                problem = problem.withQDrop(
                        capture(ctx, fpModel, null, unit.input(), calib, n, inSize), s.quantizedInputProbability());
            }
            long seed = ctx.random("unit/" + unit.name()).nextLong();
            try (TrainingSession session = ctx.backend()
                    .train(
                            problem,
                            new TrainingSettings(
                                    s.options().learningRate(),
                                    Math.min(s.options().batchSize(), n),
                                    seed,
                                    scales.isEmpty() ? 0 : s.activationLearningRate(),
                                    scales,
                                    s.biasLearningRate()))) {
                double before = session.loss();
                finite(before, s, unit, 0);
                int outputChannels = slice.shape(slice.outputs().get(0)).dim(-1);
                for (int step = 0, to; step < s.iterations(); step = to) {
                    to = Math.min(step + CHUNK, s.iterations());
                    if (!scales.isEmpty()) {
                        session.activationLearningRate(
                                LearningRates.cosine(s.activationLearningRate(), step, s.iterations()));
                    }
                    finite(
                            session.run(to - step, s.schedule().steps(step, to, s.iterations(), outputChannels)),
                            s,
                            unit,
                            to);
                    ctx.progress().progress(task, to, s.iterations());
                    ctx.checkCancelled();
                }
                double after = session.loss();
                String hard = s.variables().contains(Variable.ROUNDING) ? hardLoss(session) : "";
                if (s.refineSweeps() > 0 && s.variables().contains(Variable.ROUNDING)) {
                    hard += refine(session, part, targets, n, s.refineSweeps());
                }
                session.commit();
                qm.absorb(part.model());
                ctx.progress()
                        .message(String.format(
                                java.util.Locale.ROOT,
                                "%s: loss %.4g -> %.4g (soft)%s, %d samples",
                                task,
                                before,
                                after,
                                hard,
                                n));
            } catch (UnsupportedOperationException e) {
                throw new TinyPtqException(s.plugin() + ": the backend '"
                        + ctx.backend().info().backend() + "' cannot run reconstruction: " + e.getMessage());
            }
            if (checkpoints != null) {
                checkpoints.save(u, unit, qm);
            }
        }
    }

    /**
     * Stops the stage where a unit's loss is NaN or infinite (after {@code step} steps; 0: before any), naming the
     * unit and its layers: every later step and unit would go on from a diverged state.
     */
    static void finite(double loss, Settings s, Unit unit, int step) {
        if (Double.isFinite(loss)) {
            return;
        }
        String layers = unit.layers().stream().map(Op::name).collect(java.util.stream.Collectors.joining(", "));
        throw new TinyPtqException(s.plugin() + ": unit '" + unit.name() + "' (layers " + layers + "): the"
                + " reconstruction loss is " + loss
                + (step == 0
                        ? " before the first step: the unit's calibration"
                                + " inputs or float targets hold NaN or infinite values"
                        : " after step " + step + " of " + s.iterations()
                                + ": the training diverged; lower learning_rate (now "
                                + s.options().learningRate() + ")"));
    }

    /** ", H (hard)" with the loss of the rounding as it will be kept, or nothing where the backend cannot say. */
    private static String hardLoss(TrainingSession session) {
        try {
            session.hyperparameter(TrainingOps.ROUNDING_HARD, 1);
            try {
                return String.format(java.util.Locale.ROOT, ", %.4g (hard)", session.loss());
            } finally {
                session.hyperparameter(TrainingOps.ROUNDING_HARD, 0);
            }
        } catch (UnsupportedOperationException e) {
            return "";
        }
    }

    /**
     * ", refined: F flips in T s, H (hard)" after {@link RoundingRefinement}, or nothing where the unit's last layer is
     * not one the search handles or the backend cannot report the values it needs.
     */
    private static String refine(
            TrainingSession session, QuantizedModel part, float[] targets, int samples, int sweeps) {
        try {
            long start = System.nanoTime();
            var flips = RoundingRefinement.refine(session, part, targets, samples, sweeps);
            double seconds = (System.nanoTime() - start) / 1e9;
            return flips.isEmpty()
                    ? ""
                    : String.format(
                            java.util.Locale.ROOT,
                            ", refined: %d flips in %.1f s%s",
                            flips.getAsInt(),
                            seconds,
                            hardLoss(session));
        } catch (UnsupportedOperationException e) {
            return "";
        }
    }

    /**
     * The whole model as one unit, from its input to its logits: a final softmax has no weights, and the MSE of class
     * probabilities vanishes wherever the model is confident, so the loss compares logits as the layer units'
     * last unit does.
     */
    static Unit wholeModel(Model model, String plugin) {
        if (model.inputs().size() != 1 || model.outputs().size() != 1) {
            throw new TinyPtqException(plugin + ": granularity 'model' needs a model with one input and one output; '"
                    + model.name() + "' has " + model.inputs().size() + " and "
                    + model.outputs().size());
        }
        String logits = Units.logits(model);
        return new Unit(
                model.name(),
                "model",
                model.inputs().keySet().iterator().next(),
                logits,
                model.ops().stream()
                        .filter(op ->
                                !(op instanceof Op.Softmax sm && sm.input().equals(logits)))
                        .toList());
    }

    /**
     * {@code slice} with one more op, a same-shape reshape reading {@code output}: the unit's output becomes an op
     * input, so the training session applies its quantizer like any other, and the loss sees the quantized output.
     */
    static Model withOutputQuantized(Model slice, String output) {
        Model.Builder b = Model.builder(slice.name());
        slice.inputs().forEach(b::input);
        slice.constants().forEach(b::constant);
        slice.ops().forEach(b::op);
        String quantized = output + "/quantized";
        return b.op(new io.tinyptq.api.model.Op.Reshape(
                        output + "/output-quantizer", output, quantized, slice.shape(output)))
                .output(quantized)
                .build();
    }

    /**
     * The activation tensors whose quantizer scale {@code unit} trains: none unless the settings ask for it; else
     * every quantized tensor an op of the unit reads (its input, and inside a block the tensors between its layers)
     * that no earlier unit trained; its output too with {@code quantizeOutput}, else that belongs to its readers.
     */
    static Set<String> activationScales(Settings s, Unit unit, QuantizedModel part, Set<String> trainedBefore) {
        // LSQ (qparam) trains every step size as its variable already; UnitActivations forbids a rate without
        // quantized activations.
        if (!(s.activationLearningRate() > 0) || s.variables().contains(Variable.QPARAMS)) {
            return Set.of();
        }
        Set<String> out = new java.util.LinkedHashSet<>();
        for (io.tinyptq.api.model.Op op : unit.ops()) {
            for (String t : op.inputs()) {
                if (part.freeActivationQuantizers().containsKey(t) && !trainedBefore.contains(t)) {
                    out.add(t);
                }
            }
        }
        if (s.quantizeOutput()
                && part.freeActivationQuantizers().containsKey(unit.output())
                && !trainedBefore.contains(unit.output())) {
            out.add(unit.output());
        }
        return out;
    }

    /**
     * BRECQ's Fisher weights of unit {@code u}'s output (Li et al. 2021, Sec. 3.3; its code's {@code save_grad_data}):
     * for each of the first {@code n} calibration samples, the gradient {@code g} of the KL divergence of the model
     * quantized up to and including the unit (the units before it already optimized, the rest full precision) from
     * the full-precision model, taken at the unit's output, as PyTorch's {@code batchmean} gives it for batches of
     * {@code batch} (the sample's own gradient over {@code batch}); the weight is the squared damped magnitude
     * {@code (|g| + 1)^2}. With the damping the weighted loss stays close to the plain MSE and only leans towards the
     * outputs the task loss is sensitive to.
     */
    static float[] fisherWeights(
            StageContext ctx,
            QuantizedModel qm,
            Model fpModel,
            List<Unit> units,
            int u,
            CalibrationSet calib,
            int n,
            int batch,
            boolean quantizeActivations) {
        QuantizedModel tillUnit = quantizedTill(qm, units, u);
        String logits = Units.logits(tillUnit.model());
        float[] x = java.util.Arrays.copyOf(calib.data(), n * calib.sampleSize());
        int classes = tillUnit.model().shape(logits).size();
        float[] fpLogits = capture(ctx, fpModel, null, logits, calib, n, classes);
        try (TrainingSession session = ctx.backend()
                .train(
                        TrainingProblem.divergence(
                                tillUnit, Set.of(Variable.BIASES), x, fpLogits, n, quantizeActivations),
                        new TrainingSettings(1e-3, Math.min(batch, n), 0))) {
            float[] g = session.gradients(units.get(u).output());
            for (int i = 0; i < g.length; i++) {
                float d = Math.abs(g[i]) / batch + 1f;
                g[i] = d * d;
            }
            return g;
        } catch (UnsupportedOperationException e) {
            throw new TinyPtqException("Fisher-weighted reconstruction: the backend '"
                    + ctx.backend().info().backend() + "' cannot compute output gradients: " + e.getMessage());
        }
    }

    /**
     * The model up to its logits, quantized in the layers of units {@code 0..u} and in the tensors they read; the
     * rest stays in full precision.
     */
    static QuantizedModel quantizedTill(QuantizedModel qm, List<Unit> units, int u) {
        Model head = Units.toLogits(qm.model());
        Set<String> quantizedLayers = new java.util.HashSet<>();
        Set<String> quantizedTensors = new java.util.HashSet<>();
        for (int i = 0; i <= u; i++) {
            for (Op op : units.get(i).ops()) {
                quantizedLayers.add(op.name());
                quantizedTensors.addAll(op.inputs());
            }
        }
        return qm.restrict(head).keepOnly(quantizedLayers, quantizedTensors);
    }

    /** The first {@code n} samples' values of {@code tensor} when running {@code model} (quantized or not). */
    static float[] capture(
            StageContext ctx,
            Model model,
            QuantizedModel quantized,
            String tensor,
            CalibrationSet calib,
            int n,
            int size) {
        float[] out = new float[n * size];
        int batch = Math.min(32, n);
        int sample = calib.sampleSize();
        float[] in = new float[batch * sample];
        try (ModelExecutor exec = ctx.backend().compile(model, quantized, batch)) {
            for (int start = 0; start < n; start += batch) {
                int count = Math.min(batch, n - start);
                System.arraycopy(calib.data(), start * sample, in, 0, count * sample);
                int offset = start * size;
                exec.forward(in, count, (t, values, off, len) -> {
                    if (t.equals(tensor)) {
                        System.arraycopy(values, off, out, offset, len);
                    }
                });
            }
        }
        return out;
    }

    /** Restores a unit's checkpoint; a damaged one is reported and the unit fitted again (its file is overwritten). */
    private static boolean restore(
            Checkpoints checkpoints, int u, Unit unit, QuantizedModel qm, String task, StageContext ctx) {
        try {
            return checkpoints.restore(u, unit, qm);
        } catch (Checkpoints.Damaged e) {
            ctx.progress().message(task + ": " + e.getMessage() + "; fitting the unit again");
            return false;
        }
    }
}
