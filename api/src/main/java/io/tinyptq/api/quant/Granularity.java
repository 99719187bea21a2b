package io.tinyptq.api.quant;

/** One (scale, zero-point) pair for the whole tensor, or one per output channel. */
public enum Granularity {
    PER_TENSOR,
    PER_CHANNEL
}
