package io.tinyptq.api.spi;

/**
 * What an optimization step may change (Zhuo et al. 2022, Sec. 3.2 step 3, plus step 4's biases).
 * <ul>
 *   <li>{@link #QPARAMS}: scales and zero-points of the quantizers (LSQ, Esser et al. 2020);</li>
 *   <li>{@link #WEIGHTS}: float weights and biases through the straight-through estimator (AdaQuant,
 *       Hubara et al. 2020);</li>
 *   <li>{@link #ROUNDING}: one continuous variable per weight choosing floor or ceiling through the problem's
 *       rounding operation ({@link TrainingOps}: AdaRound's rectified sigmoid, Nagel et al. 2020, or a
 *       straight-through sign), hardened when the session commits;</li>
 *   <li>{@link #BIASES}: biases only (end-to-end bias tuning).</li>
 * </ul>
 */
public enum Variable {
    QPARAMS,
    WEIGHTS,
    ROUNDING,
    BIASES
}
