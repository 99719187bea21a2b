package io.tinyptq.plugins.postprocess;

import io.tinyptq.api.TinyPtqException;
import io.tinyptq.api.model.Model;
import io.tinyptq.api.model.Units;
import io.tinyptq.api.options.Option;
import io.tinyptq.api.quant.QuantizedModel;
import io.tinyptq.api.spi.CalibrationSet;
import io.tinyptq.api.spi.LearningRates;
import io.tinyptq.api.spi.ModelExecutor;
import io.tinyptq.api.spi.Postprocessor;
import io.tinyptq.api.spi.StageContext;
import io.tinyptq.api.spi.TrainingProblem;
import io.tinyptq.api.spi.TrainingSession;
import io.tinyptq.api.spi.TrainingSettings;
import io.tinyptq.api.spi.Variable;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * End-to-end bias tuning (Zhuo et al. 2022, Sec. 3.2 step 4): every bias of the quantized model is trained with
 * Adam to minimize the MSE between the full-precision and the quantized model's outputs on the calibration
 * data, with every quantizer active. Biases stay in float (paper, Figure 1), so this corrects the systematic
 * output shift quantization leaves without touching the quantized weights.
 *
 * <p>With {@code activation_learning_rate > 0} the activation quantizers' step sizes (LSQ, Esser et al. 2020) train
 * in the same end-to-end steps: layer-wise reconstruction fits each step size to its own unit's output, while
 * end to end each one is chosen for what the whole model computes from it, which matters where a few levels must
 * cover a tensor (3 bits and below). The model input's quantizer stays as initialized: its format is the
 * deployment's.
 *
 * <p>{@code loss: kl} replaces the output MSE by the KL divergence of the quantized model's class distribution
 * from the full-precision one's (knowledge distillation on the logits, as BRECQ's Fisher weights and QDrop's
 * network-wise variant use): on a softmax output the MSE of probabilities barely moves once the top class is
 * confident, while the KL divergence keeps weighting every class by its log-ratio. {@code loss: logits} takes the
 * MSE of the logits instead (the output MSE of a model whose output is its logits, as PyTorch classifiers have): it
 * keeps every class's margin in the loss without the KL divergence's weighting by the class probabilities.
 */
public final class BiasTuning implements Postprocessor<BiasTuning.Options> {

    public record Options(
            @Option(description = "Adam steps", min = 1, max = 10_000_000)
            int iterations,

            @Option(description = "Adam learning rate", min = 1e-9, max = 10)
            double learningRate,

            @Option(description = "calibration samples per step", min = 1, max = 65536)
            int batchSize,

            @Option(
                    description = "when > 0, the step sizes of every activation quantizer but the model input's also "
                            + "train end to end, with their own Adam at this learning rate, cosine-decayed to 0; 0 keeps "
                            + "them fixed (the paper's bias tuning)",
                    min = 0,
                    max = 10)
            double activationLearningRate,

            @Option(
                    description = "end-to-end loss: mse of the model outputs (the paper); logits, the mse of the "
                            + "logits (the input of a final softmax); or kl, the KL divergence of the quantized model's softmax "
                            + "from the full-precision one's, on the logits")
            Loss loss) {}

    /** What bias tuning minimizes between the full-precision and the quantized model. */
    public enum Loss {
        MSE,
        LOGITS,
        KL
    }

    @Override
    public String name() {
        return "bias-tuning";
    }

    @Override
    public String description() {
        return "end-to-end Adam on every bias, minimizing the FP-vs-quantized output MSE";
    }

    @Override
    public Class<Options> optionsType() {
        return Options.class;
    }

    @Override
    public Options defaultOptions() {
        return new Options(1000, 1e-4, 32, 0, Loss.MSE);
    }

    @Override
    public void apply(QuantizedModel qm, Options o, StageContext ctx) {
        Model model = qm.model();
        if (model.inputs().size() != 1 || model.outputs().size() != 1) {
            throw new TinyPtqException(
                    "bias-tuning needs a model with one input and one output; '" + model.name() + "' has "
                            + model.inputs().size() + " and " + model.outputs().size());
        }
        CalibrationSet calib = ctx.calibration();
        int n = calib.size();
        // KL compares softmaxes of logits, LOGITS the logits themselves: train the model without its final softmax;
        // its quantizers and constants are the whole model's (shared), and the trained biases go back into it at the
        // end.
        boolean kl = o.loss() == Loss.KL;
        boolean onLogits = o.loss() != Loss.MSE;
        Model trained = onLogits ? Units.toLogits(model) : model;
        QuantizedModel part = onLogits ? qm.restrict(trained) : qm;
        String out = trained.outputs().get(0);
        int outSize = trained.shape(out).size();
        float[] targets = new float[n * outSize];
        int batch = Math.min(32, n);
        float[] in = new float[batch * calib.sampleSize()];
        // The targets come from the full-precision model (QuantizedModel.reference): qm.model() holds the rounded
        // weights once a stage has optimized them, and tuning towards it would leave the weights' error in place.
        try (ModelExecutor fp = ctx.backend().compile(part.reference(), null, batch)) {
            for (int start = 0; start < n; start += batch) {
                int count = Math.min(batch, n - start);
                System.arraycopy(calib.data(), start * calib.sampleSize(), in, 0, count * calib.sampleSize());
                float[] y = fp.forward(in, count, ModelExecutor.ActivationListener.NONE);
                System.arraycopy(y, 0, targets, start * outSize, count * outSize);
            }
        }
        TrainingProblem problem = kl
                ? TrainingProblem.divergence(part, Set.of(Variable.BIASES), calib.data(), targets, n, true)
                : new TrainingProblem(part, Set.of(Variable.BIASES), calib.data(), targets, n, true, null);
        Set<String> scales = new TreeSet<>();
        if (o.activationLearningRate() > 0) {
            qm.freeActivationQuantizers().keySet().stream()
                    .filter(t -> !model.inputs().containsKey(t))
                    .forEach(scales::add);
        }
        try (TrainingSession session = ctx.backend()
                .train(
                        problem,
                        new TrainingSettings(
                                o.learningRate(),
                                Math.min(o.batchSize(), n),
                                ctx.random("batches").nextLong(),
                                scales.isEmpty() ? 0 : o.activationLearningRate(),
                                scales))) {
            double before = session.loss();
            finite(before, o, 0, part);
            for (int step = 0; step < o.iterations(); step += 100) {
                int to = Math.min(step + 100, o.iterations());
                if (!scales.isEmpty()) {
                    session.activationLearningRate(
                            LearningRates.cosine(o.activationLearningRate(), step, o.iterations()));
                }
                finite(session.run(to - step), o, to, part);
                ctx.progress().progress(name(), to, o.iterations());
                ctx.checkCancelled();
            }
            double after = session.loss();
            session.commit();
            if (onLogits) {
                qm.absorb(part.model());
            }
            ctx.progress()
                    .message(String.format(
                            Locale.ROOT,
                            "bias-tuning: %s %.4g -> %.4g%s",
                            switch (o.loss()) {
                                case MSE -> "output MSE";
                                case LOGITS -> "logit MSE";
                                case KL -> "output KL divergence";
                            },
                            before,
                            after,
                            scales.isEmpty() ? "" : " (with " + scales.size() + " activation step sizes)"));
        } catch (UnsupportedOperationException e) {
            throw new TinyPtqException("bias-tuning: the backend '"
                    + ctx.backend().info().backend() + "' cannot train: " + e.getMessage());
        }
    }

    /**
     * Stops where the loss is NaN or infinite (after {@code step} steps; 0: before any), naming the model's output
     * layer, where the loss is taken: every bias trained from there on would be meaningless.
     */
    static void finite(double loss, Options o, int step, QuantizedModel part) {
        if (Double.isFinite(loss)) {
            return;
        }
        Model m = part.model();
        String out = m.outputs().get(0);
        String layer = m.producer(out).map(op -> "layer '" + op.name() + "'").orElse("input");
        throw new TinyPtqException(
                "bias-tuning: the loss at the model's output '" + out + "' (" + layer + ") is " + loss
                        + (step == 0
                                ? " before the first step: the calibration inputs or float outputs hold NaN or infinite"
                                        + " values"
                                : " after step " + step + " of " + o.iterations() + ": the training diverged; lower"
                                        + " learning_rate (now " + o.learningRate() + ")"));
    }
}
