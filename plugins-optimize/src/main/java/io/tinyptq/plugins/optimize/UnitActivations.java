package io.tinyptq.plugins.optimize;

import io.tinyptq.api.options.Option;

/**
 * The activation quantizers inside a reconstruction unit, the {@code activations} options of {@code qparam},
 * {@code weights} and {@code round}: whether they quantize while the unit trains, and the refinements of the methods
 * built on AdaRound (each off by default). Rules that tie the keys together are checked when a recipe loads.
 *
 * @param quantize          the unit's activation quantizers stay active while it trains (the paper's setting);
 *                          false reconstructs with full-precision activations inside the unit
 * @param learningRate      when above 0, the unit's activation quantizer step sizes train jointly with its variable,
 *                          with their own Adam at this step size, cosine-decayed to 0 over the unit's steps (BRECQ, Li
 *                          et al. 2021, Sec. 4, and its code: LSQ on the step size at 4e-5); a quantizer read by several
 *                          units (a residual fork) trains in the first of them only
 * @param qdropProbability  QDrop (Wei et al. 2022): below 1, every training step keeps each unit input element
 *                          quantized with this probability and else gives it its full-precision value (QDrop: 0.5)
 * @param quantizeOutput    the unit's output goes through the quantizer its readers have before the loss, and that
 *                          step size trains here when step sizes train (BRECQ's placement: rounding and output step
 *                          fitted jointly to the output grid); false leaves it to the readers (the paper's Figure 1)
 */
public record UnitActivations(
        @Option(description = "keep the unit's activation quantizers active while it trains")
        boolean quantize,

        @Option(
                description = "Adam learning rate of the unit's activation quantizer step sizes, trained jointly "
                        + "with the variable and cosine-decayed to 0 (BRECQ: 4e-5); 0 keeps them fixed",
                min = 0,
                max = 10)
        double learningRate,

        @Option(
                description = "QDrop: probability that a unit input element stays quantized in a training step, "
                        + "else it takes its full-precision value (QDrop: 0.5); 1 = off",
                min = 0.01,
                max = 1)
        double qdropProbability,

        @Option(
                description = "quantize the unit's output inside its loss with the quantizer its readers have, "
                        + "its step size trained here with learning_rate (BRECQ's placement); false leaves it to "
                        + "the readers")
        boolean quantizeOutput) {

    /** The paper's setting: activations quantized inside the unit, their step sizes fixed, no QDrop. */
    public static final UnitActivations QUANTIZED = new UnitActivations(true, 0, 1, false);

    /** Full-precision activations inside the unit. */
    public static final UnitActivations FULL_PRECISION = new UnitActivations(false, 0, 1, false);

    public UnitActivations {
        if (!quantize && (learningRate > 0 || quantizeOutput)) {
            throw new IllegalArgumentException(""
                    + (learningRate > 0
                            ? "learning_rate " + learningRate + " trains the unit's activation step sizes"
                            : "quantize_output quantizes the unit's output with its readers' quantizer")
                    + ", which quantize: false switches off; set quantize: true, or leave that key out");
        }
    }

    /** These settings with the step sizes training at {@code rate}. */
    public UnitActivations withLearningRate(double rate) {
        return new UnitActivations(quantize, rate, qdropProbability, quantizeOutput);
    }

    /** These settings with QDrop keeping each input element quantized with probability {@code p}. */
    public UnitActivations withQdropProbability(double p) {
        return new UnitActivations(quantize, learningRate, p, quantizeOutput);
    }

    /** These settings with the unit's output quantized inside its loss. */
    public UnitActivations withQuantizedOutput() {
        return new UnitActivations(quantize, learningRate, qdropProbability, true);
    }
}
