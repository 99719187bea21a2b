package io.tinyptq.plugins.optimize;

/**
 * A unit's reconstruction loss, each a weighted sum of the squared errors of its output elements:
 * <ul>
 *   <li>{@code MSE}: every element weighs 1.</li>
 *   <li>{@code FISHER}: BRECQ's Fisher-weighted MSE (Li et al. 2021, Sec. 3.3): an element weighs the square of its
 *       damped task-loss gradient, {@code (|dL/dz| + 1)^2}, where {@code L} is the KL divergence of the model quantized
 *       up to and including the unit from the full-precision model, per calibration sample ({@code batchmean}, as
 *       BRECQ's code computes it). The gradients are small, so the weights stay close to 1.</li>
 *   <li>{@code OUTPUT}: the diagonal of the Fisher information of the model's class distribution at the unit output,
 *       {@code F = sum_y p_y (d log q_y / dz)^2} per sample and element, with {@code p} the full-precision model's class
 *       probabilities and {@code q} those of the model quantized up to the unit (the rest in full precision). For
 *       {@code q = p}, {@code F} is the diagonal of {@code J^T (diag p - p p^T) J}, the Hessian of the KL divergence of
 *       the model output in the unit's output {@code z}, so {@code sum F dz^2} is the second-order change of the
 *       model's prediction an output error causes: the unit is judged by the model's output, not its own. Normalized
 *       to mean 1 and damped by {@code d}: {@code w = (F / mean F + d) / (1 + d)}.</li>
 * </ul>
 */
public enum ReconstructionLoss {
    MSE, FISHER, OUTPUT;

    /** The {@code loss} option's description, shared by the optimizers that reconstruct with gradients. */
    static final String OPTION = "reconstruction loss: mse, fisher (BRECQ's Fisher-weighted MSE) or output (weighted "
            + "by the diagonal Fisher information of the model's class distribution at the unit output)";
    /** The {@code output_damping} option's description. */
    static final String DAMPING_OPTION = "with loss output: d in the weights (F / mean F + d) / (1 + d) of the squared "
            + "errors; 0 weighs each output element by its Fisher information F alone, large values approach the plain MSE";
}
