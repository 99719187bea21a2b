/**
 * The quantization vocabulary of Zhuo et al. 2022, Sec. 3.1: bit-width, {@link io.tinyptq.api.quant.Symmetry},
 * {@link io.tinyptq.api.quant.Granularity}, the integer grid {@code [n, p]}, scale and zero-point
 * ({@link io.tinyptq.api.quant.FakeQuant} defines Eq. 1 and 2), and the simulated
 * {@link io.tinyptq.api.quant.QuantizedModel}.
 */
package io.tinyptq.api.quant;
