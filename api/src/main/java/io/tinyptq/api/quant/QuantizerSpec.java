package io.tinyptq.api.quant;

import java.util.Objects;

/**
 * What a quantizer is: bit-width, symmetry and granularity; {@code channelAxis} is the tensor axis that indexes
 * channels when per-channel (ignored, and conventionally -1, per tensor). A {@code narrow} symmetric quantizer
 * drops the grid's most negative level, {@code [-(2^(b-1)-1), 2^(b-1)-1]}, as TFLite's int8 and int4 weights do.
 */
public record QuantizerSpec(int bits, Symmetry symmetry, Granularity granularity, int channelAxis, boolean narrow) {
    public QuantizerSpec {
        IntegerGrid.checkBits(bits);
        Objects.requireNonNull(symmetry);
        Objects.requireNonNull(granularity);
        if (granularity == Granularity.PER_CHANNEL && channelAxis < 0) {
            throw new IllegalArgumentException("a per-channel quantizer needs a channel axis >= 0");
        }
        if (narrow && (symmetry != Symmetry.SYMMETRIC || bits < 2)) {
            throw new IllegalArgumentException("a narrow grid needs a symmetric quantizer of 2 bits or more");
        }
    }

    /** A quantizer on the full grid of its symmetry. */
    public QuantizerSpec(int bits, Symmetry symmetry, Granularity granularity, int channelAxis) {
        this(bits, symmetry, granularity, channelAxis, false);
    }

    /** The paper's weight quantizer: symmetric, per output channel along {@code axis}. */
    public static QuantizerSpec weights(int bits, int axis) {
        return new QuantizerSpec(bits, Symmetry.SYMMETRIC, Granularity.PER_CHANNEL, axis);
    }

    /** The paper's activation quantizer: asymmetric, per tensor. */
    public static QuantizerSpec activations(int bits) {
        return new QuantizerSpec(bits, Symmetry.ASYMMETRIC, Granularity.PER_TENSOR, -1);
    }

    /** Signed grid for symmetric quantizers (narrow when {@link #narrow}), unsigned for asymmetric ones. */
    public IntegerGrid grid() {
        if (symmetry == Symmetry.ASYMMETRIC) {
            return IntegerGrid.unsigned(bits);
        }
        return narrow ? IntegerGrid.narrow(bits) : IntegerGrid.signed(bits);
    }

    public QuantizerSpec withBits(int newBits) {
        return new QuantizerSpec(newBits, symmetry, granularity, channelAxis, narrow);
    }
}
