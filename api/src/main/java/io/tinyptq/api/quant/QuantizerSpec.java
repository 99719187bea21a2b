package io.tinyptq.api.quant;

import java.util.Objects;

/**
 * What a quantizer is: bit-width, symmetry and granularity; {@code channelAxis} is the tensor axis that indexes
 * channels when per-channel (ignored, and conventionally -1, per tensor).
 */
public record QuantizerSpec(int bits, Symmetry symmetry, Granularity granularity, int channelAxis) {
    public QuantizerSpec {
        IntegerGrid.checkBits(bits);
        Objects.requireNonNull(symmetry);
        Objects.requireNonNull(granularity);
        if (granularity == Granularity.PER_CHANNEL && channelAxis < 0) {
            throw new IllegalArgumentException("a per-channel quantizer needs a channel axis >= 0");
        }
    }

    /** The paper's weight quantizer: symmetric, per output channel along {@code axis}. */
    public static QuantizerSpec weights(int bits, int axis) {
        return new QuantizerSpec(bits, Symmetry.SYMMETRIC, Granularity.PER_CHANNEL, axis);
    }

    /** The paper's activation quantizer: asymmetric, per tensor. */
    public static QuantizerSpec activations(int bits) {
        return new QuantizerSpec(bits, Symmetry.ASYMMETRIC, Granularity.PER_TENSOR, -1);
    }

    /** Signed grid for symmetric quantizers, unsigned for asymmetric ones. */
    public IntegerGrid grid() {
        return symmetry == Symmetry.SYMMETRIC ? IntegerGrid.signed(bits) : IntegerGrid.unsigned(bits);
    }

    public QuantizerSpec withBits(int newBits) {
        return new QuantizerSpec(newBits, symmetry, granularity, channelAxis);
    }
}
