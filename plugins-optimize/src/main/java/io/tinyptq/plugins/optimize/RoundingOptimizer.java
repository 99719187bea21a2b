package io.tinyptq.plugins.optimize;

import io.tinyptq.api.options.Option;
import io.tinyptq.api.quant.QuantizedModel;
import io.tinyptq.api.spi.QuantOptimizer;
import io.tinyptq.api.spi.StageContext;
import io.tinyptq.api.spi.StepControl;
import io.tinyptq.api.spi.TrainingOps;
import io.tinyptq.api.spi.TrainingSession;
import io.tinyptq.api.spi.Variable;
import java.util.Locale;
import java.util.Set;

/**
 * {@code opt_round}: AdaRound (Nagel et al., "Up or Down? Adaptive Rounding for Post-Training Quantization",
 * ICML 2020). Each weight gets a continuous {@code V}; the soft-quantized weight is
 * {@code s * clamp(floor(W/s) + h(V), n, p)} with the rectified sigmoid
 * {@code h(V) = clamp(sigmoid(V)(ζ - γ) + γ, 0, 1)}, ζ = 1.1, γ = -0.1. The loss is the unit's output MSE plus
 * {@code λ Σ (1 - |2h(V) - 1|^β)}, which pushes every {@code h} to 0 or 1; the regularizer ({@link Regularizer}) is off
 * for the first {@code warmup} fraction of the iterations, then β decays linearly from {@code beta_start} to
 * {@code beta_end} (BRECQ's schedule). At the end the rounding is hardened ({@code V >= 0} rounds up).
 *
 * <p>The methods built on AdaRound are options of its {@code activations} ({@link UnitActivations}), all off by
 * default: {@code learning_rate} trains the unit's activation quantizer scales jointly with V (LSQ step sizes with
 * their own Adam and a cosine decay, as BRECQ's and QDrop's code do at lr 4e-5), {@code quantize_output} fits the
 * output step with the rounding (BRECQ), and {@code qdrop_probability} mixes quantized and full-precision unit inputs
 * element by element during training (QDrop, Wei et al. 2022, at 0.5). The bundled recipes {@code brecq} and
 * {@code qdrop} set them as those papers do.
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
            @Option(description = ReconstructionOptions.GRANULARITY)
            Granularity granularity,

            @Option(description = ReconstructionOptions.ITERATIONS, min = 1, max = 10_000_000)
            int iterations,

            @Option(description = "Adam learning rate for V", min = 1e-9, max = 10)
            double learningRate,

            @Option(description = ReconstructionOptions.BATCH_SIZE, min = 1, max = 65536)
            int batchSize,

            @Option(description = ReconstructionOptions.MAX_CACHE_MB, min = 1)
            int maxCacheMb,

            @Option(description = ReconstructionOptions.ACTIVATIONS)
            UnitActivations activations,

            @Option(description = ReconstructionLoss.OPTION) ReconstructionLoss loss,

            @Option(description = "the rounding regularizer and its schedule: lambda, beta_start, beta_end, warmup")
            Regularizer regularizer,

            @Option(
                    description = "after hardening, passes of exact coordinate descent over the rounding of a "
                            + "fully-connected layer that ends a unit (the classifier): each single weight's "
                            + "flip between rounding down and up that lowers the MSE over all cached samples "
                            + "is kept, so the hard loss never rises; other units are unchanged; 0 = off",
                    min = 0,
                    max = 1000)
            int refineSweeps)
            implements ReconstructionOptions {

        public Options {
            if (refineSweeps > 0 && loss != ReconstructionLoss.MSE) {
                throw new IllegalArgumentException("refine_sweeps judges each flip by the unit's plain output MSE, so "
                        + "it cannot follow loss " + loss.name().toLowerCase(Locale.ROOT)
                        + ": set refine_sweeps: 0, or loss: mse");
            }
        }
    }

    /**
     * AdaRound's regularizer {@code λ Σ (1 - |2h(V) - 1|^β)}: off for the first {@code warmup} fraction of a unit's
     * steps, then at strength λ with β decaying linearly from {@code betaStart} to {@code betaEnd}.
     */
    public record Regularizer(
            @Option(description = "weight λ of the rounding regularizer", min = 0)
            double lambda,

            @Option(description = "regularizer exponent β at the end of the warm-up", min = 0.1, max = 1000)
            double betaStart,

            @Option(description = "regularizer exponent β at the last step", min = 0.1, max = 1000)
            double betaEnd,

            @Option(description = "fraction of a unit's steps without the regularizer", min = 0, max = 1)
            double warmup) {

        /** The cited papers' schedule: λ = 0.01, β 20 -> 2 after a 20 % warm-up. */
        public static final Regularizer PAPER = new Regularizer(0.01, 20, 2, 0.2);

        public Regularizer {
            if (lambda > 0 && warmup >= 1) {
                throw new IllegalArgumentException("warmup " + warmup + " leaves no step for the regularizer of "
                        + "lambda " + lambda + ": set warmup below 1, or lambda: 0");
            }
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
                1024,
                UnitActivations.QUANTIZED,
                ReconstructionLoss.MSE,
                Regularizer.PAPER,
                0);
    }

    @Override
    public void optimize(QuantizedModel model, Options o, StageContext context) {
        Reconstruction.Schedule schedule = (from, to, total, outputChannels) ->
                control(strength(o.regularizer(), from, to, total), outputChannels);
        Reconstruction.run(
                model,
                new Reconstruction.Settings(name(), o, Set.of(Variable.ROUNDING), schedule, o.refineSweeps(), 0),
                context);
    }

    /**
     * The regularizer's strength over one call of {@code steps} steps: λ, and β going linearly from {@code betaStart}
     * at the first step to {@code betaEnd} at the last.
     */
    record Strength(double lambda, double betaStart, double betaEnd) {
        static final Strength NONE = new Strength(0, 20, 20);
    }

    /**
     * The hyperparameters of the rectified sigmoid's regularizer for each step of a run call. The session's loss is
     * a mean over all output elements, while BRECQ's reconstruction loss sums over the channel axis (mean over batch
     * and positions), i.e. C times larger; dividing λ by the unit's output channels C keeps the cited λ = 0.01 at its
     * published strength relative to the reconstruction term.
     */
    static StepControl control(Strength r, int outputChannels) {
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
    static Strength strength(Regularizer r, int from, int to, int total) {
        int warm = (int) Math.round(r.warmup() * total);
        if (to <= warm) {
            return Strength.NONE;
        }
        return new Strength(r.lambda(), beta(r, Math.max(from, warm), warm, total), beta(r, to - 1, warm, total));
    }

    static double beta(Regularizer r, int step, int warm, int total) {
        double progress = total - warm <= 1 ? 1 : (double) (step - warm) / (total - warm - 1);
        return r.betaStart() + (r.betaEnd() - r.betaStart()) * Math.min(1, Math.max(0, progress));
    }
}
