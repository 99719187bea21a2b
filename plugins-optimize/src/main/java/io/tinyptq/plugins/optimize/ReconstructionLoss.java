package io.tinyptq.plugins.optimize;

/**
 * A unit's reconstruction loss, each a weighted sum of the squared errors of its output elements:
 * <ul>
 *   <li>{@code MSE}: every element weighs 1.</li>
 *   <li>{@code FISHER}: BRECQ's Fisher-weighted MSE (Li et al. 2021, Sec. 3.3): an element weighs the square of its
 *       damped task-loss gradient, {@code (|dL/dz| + 1)^2}, where {@code L} is the KL divergence of the model quantized
 *       up to and including the unit from the full-precision model, per calibration sample ({@code batchmean}, as
 *       BRECQ's code computes it). The gradients are small, so the weights stay close to 1.</li>
 * </ul>
 */
public enum ReconstructionLoss {
    MSE,
    FISHER;

    /** The {@code loss} option's description, shared by the optimizers that reconstruct with gradients. */
    static final String OPTION = "reconstruction loss: mse, or fisher (BRECQ's Fisher-weighted MSE: squared errors "
            + "weighted by the squared, damped gradients of the model's KL divergence at the unit output)";
}
