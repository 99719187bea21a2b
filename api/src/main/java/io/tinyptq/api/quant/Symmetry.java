package io.tinyptq.api.quant;

/**
 * Symmetric quantizers fix the zero-point at 0 and use the signed grid; asymmetric ones learn a zero-point on
 * the unsigned grid (paper Sec. 3.1: symmetric for weights, asymmetric for activations).
 */
public enum Symmetry {
    SYMMETRIC,
    ASYMMETRIC
}
