package io.tinyptq.plugins.optimize;

/**
 * A unit's reconstruction loss: the output {@code MSE}, or BRECQ's {@code FISHER}-weighted MSE (Li et al. 2021,
 * Sec. 3.3): each output element's squared error weighted by the square of its damped task-loss gradient,
 * {@code (|dL/dz| + 1)^2}, where {@code L} is the KL divergence of the model quantized up to and including the unit
 * from the full-precision model, per calibration sample ({@code batchmean}, as BRECQ's code computes it).
 */
public enum ReconstructionLoss { MSE, FISHER }
