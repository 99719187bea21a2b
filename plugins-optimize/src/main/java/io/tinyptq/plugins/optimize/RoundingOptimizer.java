package io.tinyptq.plugins.optimize;

import io.tinyptq.api.options.Option;
import io.tinyptq.api.quant.QuantizedModel;
import io.tinyptq.api.spi.QuantOptimizer;
import io.tinyptq.api.spi.StageContext;
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
 * weight's flip between rounding down and up that lowers the unit's output MSE over all cached samples, judged
 * exactly: from a Gram matrix where the unit ends in a fully-connected layer without activation (the MSE is then
 * quadratic in the weights), and by re-evaluating the activated output where it ends in a convolution or an activated
 * fully-connected layer.
 */
public final class RoundingOptimizer implements QuantOptimizer<RoundingOptimizer.Options> {
    /** The output-weighted loss's damping by default: half the weight from the plain MSE, half from the Fisher. */
    static final double DEFAULT_OUTPUT_DAMPING = 1;

    public record Options(
            @Option(description = "reconstruction unit: layer, block, or model (the whole network, end to end)") Granularity granularity,
            @Option(description = "Adam steps per unit", min = 1, max = 10_000_000) int iterations,
            @Option(description = "Adam learning rate for V", min = 1e-9, max = 10) double learningRate,
            @Option(description = "calibration samples per step", min = 1, max = 65536) int batchSize,
            @Option(description = "weight of the rounding regularizer", min = 0) double lambda,
            @Option(description = "regularizer exponent at the end of the warm-up", min = 0.1, max = 1000) double betaStart,
            @Option(description = "regularizer exponent at the last step", min = 0.1, max = 1000) double betaEnd,
            @Option(description = "fraction of steps without the regularizer", min = 0, max = 1) double warmup,
            @Option(description = "keep activation quantizers active inside the unit") boolean quantizeActivations,
            @Option(description = "cap on a unit's cached inputs and targets, in MiB", min = 1) int maxCacheMb,
            @Option(description = "Adam learning rate of the unit's activation quantizer scales, trained jointly with V "
                    + "and cosine-decayed to 0 (BRECQ: 4e-5); 0 keeps them fixed", min = 0, max = 10)
            double activationLearningRate,
            @Option(description = "QDrop: probability that a unit input element stays quantized in a training step, "
                    + "else it takes its full-precision value (QDrop: 0.5); 1 = off", min = 0.01, max = 1)
            double qdropProbability,
            @Option(description = "reconstruction loss: mse; fisher (BRECQ's Fisher-weighted MSE: squared errors "
                    + "weighted by the squared, damped gradients of the model's KL divergence at the unit output); or "
                    + "output (squared errors weighted by the diagonal Fisher information of the model's class "
                    + "distribution at the unit output: the unit judged by the model's prediction; one backward pass of "
                    + "the model per class and unit)")
            ReconstructionLoss loss,
            @Option(description = "quantize the unit's output with the quantizer its readers have, inside the unit's loss, "
                    + "and train that quantizer's step size here with the activation learning rate (BRECQ's placement: "
                    + "rounding and output step fitted jointly to the output grid); false leaves it to the readers")
            boolean quantizeOutput,
            @Option(description = "after hardening, passes of exact coordinate descent over the rounding of the layer that "
                    + "ends a unit (a convolution or a fully-connected layer whose output meets the MSE): each single "
                    + "weight's flip between rounding down and up that lowers the MSE over all cached samples is kept, so "
                    + "the hard loss never rises; units ending otherwise (a depthwise convolution, an add) are "
                    + "unchanged; 0 = off", min = 0, max = 1000)
            int refineSweeps,
            @Option(description = "with refine_sweeps: each output channel's weight step size (symmetric per-channel "
                    + "quantizers) is refit for the integer codes the search kept, by an exact search of the unit's MSE "
                    + "over 0.75 to 1.25 times the step, the codes re-based on the new step and searched again; a "
                    + "channel keeps the new step only where its loss falls")
            boolean refineScales,
            @Option(description = "units refine_sweeps refines: dense (those ending in a fully-connected layer, the "
                    + "classifier) or all (also those ending in a convolution; each sweep costs about one forward pass of "
                    + "the layer over the cached samples)")
            RefineScope refineScope,
            @Option(description = ReconstructionLoss.DAMPING_OPTION, min = 0, max = 1e6)
            double outputDamping,
            @Option(description = "above 0, each unit's biases train jointly with V, with their own Adam at this "
                    + "learning rate (the per-layer bias correction AdaQuant's code makes at 1e-2); 0 keeps them as "
                    + "they are (AdaRound)", min = 0, max = 10)
            double biasLearningRate,
            @Option(description = "above 1, progressive hardening: the steps after the warm-up are cut into this many "
                    + "equal stages, and at the end of stage i the most decided 1 - 2^-i of each layer's rounding "
                    + "variables (h(V) closest to 0 or 1) are fixed at their hard value, so the free ones, and biases "
                    + "or activation step sizes that train, adapt to the rounding that will be kept; the last stage's "
                    + "half is hardened at the end as usual; 0 or 1 = off", min = 0, max = 30)
            int hardeningStages) {

        public Options {
            if (refineSweeps > 0 && loss != ReconstructionLoss.MSE) {
                throw new IllegalArgumentException("refine_sweeps judges each flip by the unit's plain output MSE, so it "
                        + "cannot follow loss " + loss.name().toLowerCase(java.util.Locale.ROOT)
                        + ": set refine_sweeps: 0, or loss: mse");
            }
        }

        /** Options with the output-weighted loss's default damping. */
        public Options(Granularity granularity, int iterations, double learningRate, int batchSize, double lambda,
                       double betaStart, double betaEnd, double warmup, boolean quantizeActivations, int maxCacheMb,
                       double activationLearningRate, double qdropProbability, ReconstructionLoss loss,
                       boolean quantizeOutput, int refineSweeps, boolean refineScales, RefineScope refineScope) {
            this(granularity, iterations, learningRate, batchSize, lambda, betaStart, betaEnd, warmup,
                    quantizeActivations, maxCacheMb, activationLearningRate, qdropProbability, loss, quantizeOutput,
                    refineSweeps, refineScales, refineScope, DEFAULT_OUTPUT_DAMPING, 0, 0);
        }

        /** Options with refinement of the rounding alone. */
        public Options(Granularity granularity, int iterations, double learningRate, int batchSize, double lambda,
                       double betaStart, double betaEnd, double warmup, boolean quantizeActivations, int maxCacheMb,
                       double activationLearningRate, double qdropProbability, ReconstructionLoss loss,
                       boolean quantizeOutput, int refineSweeps) {
            this(granularity, iterations, learningRate, batchSize, lambda, betaStart, betaEnd, warmup,
                    quantizeActivations, maxCacheMb, activationLearningRate, qdropProbability, loss, quantizeOutput,
                    refineSweeps, false, RefineScope.DENSE, DEFAULT_OUTPUT_DAMPING, 0, 0);
        }

        /** Options with the unit output left to its readers' quantizers (the paper's Figure 1 placement). */
        public Options(Granularity granularity, int iterations, double learningRate, int batchSize, double lambda,
                       double betaStart, double betaEnd, double warmup, boolean quantizeActivations, int maxCacheMb,
                       double activationLearningRate, double qdropProbability, ReconstructionLoss loss) {
            this(granularity, iterations, learningRate, batchSize, lambda, betaStart, betaEnd, warmup,
                    quantizeActivations, maxCacheMb, activationLearningRate, qdropProbability, loss, false, 0, false, RefineScope.DENSE,
                    DEFAULT_OUTPUT_DAMPING, 0, 0);
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
        return new Options(Granularity.LAYER, 20_000, 1e-3, 32, 0.01, 20, 2, 0.2, true, 1024, 0, 1, ReconstructionLoss.MSE,
                false, 0, false, RefineScope.DENSE, DEFAULT_OUTPUT_DAMPING, 0, 0);
    }

    @Override
    public void optimize(QuantizedModel model, Options o, StageContext context) {
        Reconstruction.run(model, new Reconstruction.Settings(name(), o.granularity(), o.iterations(), o.learningRate(),
                o.batchSize(), o.quantizeActivations(), o.maxCacheMb(),
                o.biasLearningRate() > 0 ? Set.of(Variable.ROUNDING, Variable.BIASES) : Set.of(Variable.ROUNDING),
                new Reconstruction.Schedule() {
                    @Override
                    public TrainingSession.Rounding rounding(int from, int to, int total) {
                        return schedule(o, from, to, total);
                    }

                    @Override
                    public double fixedRounding(int step, int total) {
                        return fixedFraction(o, step, total);
                    }
                }, o.activationLearningRate(), o.qdropProbability(),
                o.loss(), o.quantizeOutput(), o.refineSweeps(), o.refineScales(), o.refineScope(), o.outputDamping(),
                o.biasLearningRate()), o, context);
    }

    /** λ and the linear β decay over steps {@code [from, to)}; no regularizer during the warm-up. */
    static TrainingSession.Rounding schedule(Options o, int from, int to, int total) {
        int warm = (int) Math.round(o.warmup() * total);
        if (to <= warm) {
            return TrainingSession.Rounding.NONE;
        }
        return new TrainingSession.Rounding(o.lambda(), beta(o, Math.max(from, warm), warm, total),
                beta(o, to - 1, warm, total));
    }

    /**
     * Progressive hardening: the fraction of each layer's rounding variables fixed once {@code step} steps of
     * {@code total} have run. The annealed steps {@code [warm, total)} form K equal stages; after stage i (i < K) the
     * fraction is {@code 1 - 2^-i}, so each stage fixes half of what is still free and the last stage trains the
     * least decided {@code 2^-(K-1)}, which commit hardens. 0 with K below 2.
     */
    static double fixedFraction(Options o, int step, int total) {
        int stages = o.hardeningStages();
        int warm = (int) Math.round(o.warmup() * total);
        if (stages < 2 || step <= warm) {
            return 0;
        }
        int done = (int) Math.min(stages - 1, (long) (step - warm) * stages / Math.max(1, total - warm));
        return 1 - Math.pow(2, -done);
    }

    static double beta(Options o, int step, int warm, int total) {
        double progress = total - warm <= 1 ? 1 : (double) (step - warm) / (total - warm - 1);
        return o.betaStart() + (o.betaEnd() - o.betaStart()) * Math.min(1, Math.max(0, progress));
    }
}
