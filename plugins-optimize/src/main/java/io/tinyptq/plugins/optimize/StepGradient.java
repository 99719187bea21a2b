package io.tinyptq.plugins.optimize;

import io.tinyptq.api.spi.TrainingOps;

/**
 * The gradient of the quantizer step sizes that train, by its name in the training vocabulary
 * ({@link TrainingOps#STEP_GRADIENTS}): {@code qparam}'s {@code step_gradient}.
 */
public enum StepGradient {
    /** LSQ's, times its gradient scale {@code 1/sqrt(N p)} ({@link TrainingOps#LSQ_STEP}). */
    LSQ(TrainingOps.LSQ_STEP),
    /** LSQ's without the scale ({@link TrainingOps#UNSCALED_STEP}). */
    UNSCALED(TrainingOps.UNSCALED_STEP);

    final String op;

    StepGradient(String op) {
        this.op = op;
    }
}
