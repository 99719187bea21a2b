package io.tinyptq.plugins.optimize;

import io.tinyptq.api.spi.TrainingOps;

/**
 * The options every gradient-based reconstruction plugin ({@code qparam}, {@code weights}, {@code round}) has, with
 * the same keys and meaning in each: what {@link Reconstruction} reads to train one unit after another. A plugin's
 * options record implements it and adds what is its own (AdaRound's regularizer, AdaQuant's bias learning rate).
 */
public interface ReconstructionOptions {
    /** The description of {@code granularity}, shared by the plugins. */
    String GRANULARITY = "reconstruction unit: layer, block, or model (the whole network, end to end)";
    /** The description of {@code iterations}. */
    String ITERATIONS = "Adam steps per unit";
    /** The description of {@code batch_size}. */
    String BATCH_SIZE = "calibration samples per step";
    /** The description of {@code max_cache_mb}. */
    String MAX_CACHE_MB = "cap on a unit's cached inputs and targets, in MiB";
    /** The description of {@code activations}. */
    String ACTIVATIONS = "the unit's activation quantizers while it trains: quantize, learning_rate, "
            + "qdrop_probability, quantize_output";

    /** Layer, block or whole model per unit. */
    Granularity granularity();

    /** Adam steps per unit. */
    int iterations();

    /** Adam's step size for the plugin's variable. */
    double learningRate();

    /** Calibration samples per step. */
    int batchSize();

    /** Cap on a unit's cached inputs and targets, in MiB. */
    int maxCacheMb();

    /** The unit's activation quantizers while it trains. */
    UnitActivations activations();

    /** The unit's loss. */
    ReconstructionLoss loss();

    /**
     * The gradient of every step size that trains ({@link TrainingOps#STEP_GRADIENTS}): LSQ's, unless the plugin
     * offers a choice ({@code qparam}'s {@code step_gradient}). The activation steps of {@code activations.learning_rate}
     * keep LSQ's: without its scale QDrop did no better (docs/results/studies/2026-12-lsq-step-gradient.md).
     */
    default String stepGradientOp() {
        return TrainingOps.LSQ_STEP;
    }
}
