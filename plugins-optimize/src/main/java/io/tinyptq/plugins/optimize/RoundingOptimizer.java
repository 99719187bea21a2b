package io.tinyptq.plugins.optimize;

import io.tinyptq.api.options.Option;
import io.tinyptq.api.quant.QuantizedModel;
import io.tinyptq.api.spi.QuantOptimizer;
import io.tinyptq.api.spi.StageContext;
import io.tinyptq.api.spi.StepControl;
import io.tinyptq.api.spi.TrainingOps;
import io.tinyptq.api.spi.TrainingSession;
import io.tinyptq.api.spi.Variable;
import java.util.Set;

/**
 * {@code opt_round}: AdaRound (Nagel et al., "Up or Down? Adaptive Rounding for Post-Training Quantization",
 * ICML 2020). Each weight gets a continuous {@code V}; the soft-quantized weight is
 * {@code s * clamp(floor(W/s) + h(V), n, p)} with the rectified sigmoid
 * {@code h(V) = clamp(sigmoid(V)(ζ - γ) + γ, 0, 1)}, ζ = 1.1, γ = -0.1. The loss is the unit's output MSE plus
 * {@code λ Σ (1 - |2h(V) - 1|^β)}, which pushes every {@code h} to 0 or 1; the regularizer is off for the first
 * {@code warmup} fraction of the iterations, then β decays linearly from {@code beta_start} to {@code beta_end}
 * (BRECQ's schedule). At the end the rounding is hardened ({@code V >= 0} rounds up).
 *
 * <p>Two options from the methods built on AdaRound, both off by default: {@code activation_learning_rate} trains
 * the unit's activation quantizer scales jointly with V (LSQ step sizes with their own Adam and a cosine decay, as
 * BRECQ's and QDrop's code do at lr 4e-5), and {@code qdrop_probability} mixes quantized and full-precision unit
 * inputs element by element during training (QDrop, Wei et al. 2022, at 0.5).
 *
 * <p>{@code refine_sweeps} (off by default) closes the gap between the soft rounding and the hard one it leaves where
 * the regularizer has not pushed every {@code h(V)} to 0 or 1. After hardening, coordinate descent keeps every single
 * weight's flip between rounding down and up of the fully-connected layer that ends a unit (the classifier) that lowers
 * the unit's output MSE over all cached samples is kept, judged exactly: from a Gram matrix without activation (the MSE is then
 * quadratic in the weights), and by re-evaluating the activated output where it ends in an activated
 * fully-connected layer ({@link RoundingRefinement}).
 */
public final class RoundingOptimizer implements QuantOptimizer<RoundingOptimizer.Options> {
    public record Options(
            @Option(description = "reconstruction unit: layer, block, or model (the whole network, end to end)")
            Granularity granularity,

            @Option(description = "Adam steps per unit", min = 1, max = 10_000_000)
            int iterations,

            @Option(description = "Adam learning rate for V", min = 1e-9, max = 10)
            double learningRate,

            @Option(description = "calibration samples per step", min = 1, max = 65536)
            int batchSize,

            @Option(description = "weight of the rounding regularizer", min = 0)
            double lambda,

            @Option(description = "regularizer exponent at the end of the warm-up", min = 0.1, max = 1000)
            double betaStart,

            @Option(description = "regularizer exponent at the last step", min = 0.1, max = 1000)
            double betaEnd,

            @Option(description = "fraction of steps without the regularizer", min = 0, max = 1)
            double warmup,

            @Option(description = "keep activation quantizers active inside the unit")
            boolean quantizeActivations,

            @Option(description = "cap on a unit's cached inputs and targets, in MiB", min = 1)
            int maxCacheMb,

            @Option(
                    description =
                            "Adam learning rate of the unit's activation quantizer scales, trained jointly with V "
                                    + "and cosine-decayed to 0 (BRECQ: 4e-5); 0 keeps them fixed",
                    min = 0,
                    max = 10)
            double activationLearningRate,

            @Option(
                    description = "QDrop: probability that a unit input element stays quantized in a training step, "
                            + "else it takes its full-precision value (QDrop: 0.5); 1 = off",
                    min = 0.01,
                    max = 1)
            double qdropProbability,

            @Option(description = ReconstructionLoss.OPTION) ReconstructionLoss loss,

            @Option(
                    description =
                            "quantize the unit's output with the quantizer its readers have, inside the unit's loss, "
                                    + "and train that quantizer's step size here with the activation learning rate (BRECQ's placement: "
                                    + "rounding and output step fitted jointly to the output grid); false leaves it to the readers")
            boolean quantizeOutput,

            @Option(
                    description = "after hardening, passes of exact coordinate descent over the rounding of a "
                            + "fully-connected layer that ends a unit (the classifier): each single weight's flip between "
                            + "rounding down and up that lowers the MSE over all cached samples is kept, so the hard loss never "
                            + "rises; other units are unchanged; 0 = off",
                    min = 0,
                    max = 1000)
            int refineSweeps) {

        public Options {
            if (refineSweeps > 0 && loss != ReconstructionLoss.MSE) {
                throw new IllegalArgumentException(
                        "refine_sweeps judges each flip by the unit's plain output MSE, so it "
                                + "cannot follow loss " + loss.name().toLowerCase(java.util.Locale.ROOT)
                                + ": set refine_sweeps: 0, or loss: mse");
            }
        }

        /** Options with the unit output left to its readers' quantizers (the paper's Figure 1 placement). */
        public Options(
                Granularity granularity,
                int iterations,
                double learningRate,
                int batchSize,
                double lambda,
                double betaStart,
                double betaEnd,
                double warmup,
                boolean quantizeActivations,
                int maxCacheMb,
                double activationLearningRate,
                double qdropProbability,
                ReconstructionLoss loss) {
            this(
                    granularity,
                    iterations,
                    learningRate,
                    batchSize,
                    lambda,
                    betaStart,
                    betaEnd,
                    warmup,
                    quantizeActivations,
                    maxCacheMb,
                    activationLearningRate,
                    qdropProbability,
                    loss,
                    false,
                    0);
        }
    }

    @Override
    public String name() {
        return "round";
    }

    @Override
    public String description() {
        return "AdaRound: learn to round each weight up or down (Nagel et al. 2020)";
    }

    @Override
    public Class<Options> optionsType() {
        return Options.class;
    }

    /** Defaults of the cited papers: 20,000 iterations per unit (BRECQ, QDrop), λ = 0.01, β 20 -> 2, 20 % warm-up. */
    @Override
    public Options defaultOptions() {
        return new Options(
                Granularity.LAYER,
                20_000,
                1e-3,
                32,
                0.01,
                20,
                2,
                0.2,
                true,
                1024,
                0,
                1,
                ReconstructionLoss.MSE,
                false,
                0);
    }

    @Override
    public void optimize(QuantizedModel model, Options o, StageContext context) {
        Reconstruction.run(
                model,
                new Reconstruction.Settings(
                        name(),
                        o.granularity(),
                        o.iterations(),
                        o.learningRate(),
                        o.batchSize(),
                        o.quantizeActivations(),
                        o.maxCacheMb(),
                        Set.of(Variable.ROUNDING),
                        (from, to, total, outputChannels) -> control(schedule(o, from, to, total), outputChannels),
                        o.activationLearningRate(),
                        o.qdropProbability(),
                        o.loss(),
                        o.quantizeOutput(),
                        o.refineSweeps(),
                        0),
                o,
                context);
    }

    /**
     * The regularizer's strength over one call of {@code steps} steps: λ, and β going linearly from {@code betaStart}
     * at the first step to {@code betaEnd} at the last.
     */
    record Regularizer(double lambda, double betaStart, double betaEnd) {
        static final Regularizer NONE = new Regularizer(0, 20, 20);
    }

    /**
     * The hyperparameters of the rectified sigmoid's regularizer for each step of a run call. The session's loss is
     * a mean over all output elements, while BRECQ's reconstruction loss sums over the channel axis (mean over batch
     * and positions), i.e. C times larger; dividing λ by the unit's output channels C keeps the cited λ = 0.01 at its
     * published strength relative to the reconstruction term.
     */
    static StepControl control(Regularizer r, int outputChannels) {
        float weight = r.lambda() > 0 ? (float) (r.lambda() / outputChannels) : 0f;
        return new StepControl() {
            @Override
            public void beforeStep(int step, int steps, TrainingSession session) {
                double t = steps == 1 ? 0 : (double) step / (steps - 1);
                session.hyperparameter(
                        TrainingOps.ROUNDING_BETA, (float) (r.betaStart() + (r.betaEnd() - r.betaStart()) * t));
                session.hyperparameter(TrainingOps.ROUNDING_LAMBDA, weight);
            }
        };
    }

    /** λ and the linear β decay over steps {@code [from, to)}; no regularizer during the warm-up. */
    static Regularizer schedule(Options o, int from, int to, int total) {
        int warm = (int) Math.round(o.warmup() * total);
        if (to <= warm) {
            return Regularizer.NONE;
        }
        return new Regularizer(o.lambda(), beta(o, Math.max(from, warm), warm, total), beta(o, to - 1, warm, total));
    }

    static double beta(Options o, int step, int warm, int total) {
        double progress = total - warm <= 1 ? 1 : (double) (step - warm) / (total - warm - 1);
        return o.betaStart() + (o.betaEnd() - o.betaStart()) * Math.min(1, Math.max(0, progress));
    }
}
