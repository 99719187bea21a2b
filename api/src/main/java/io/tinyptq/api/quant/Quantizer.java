package io.tinyptq.api.quant;

import java.util.Objects;

/**
 * One simulated quantizer attached to a tensor: its fixed {@link QuantizerSpec} and its parameters, which the
 * initialization stage sets and the optimization stage may refine. Parameters are {@code null} until set.
 */
public final class Quantizer {
    private final String target;
    private final QuantizerSpec spec;
    private QuantParams params;

    public Quantizer(String target, QuantizerSpec spec) {
        this.target = Objects.requireNonNull(target);
        this.spec = Objects.requireNonNull(spec);
    }

    /** The tensor (activation) or layer (weight) this quantizer belongs to. */
    public String target() {
        return target;
    }

    public QuantizerSpec spec() {
        return spec;
    }

    public boolean initialized() {
        return params != null;
    }

    public QuantParams params() {
        if (params == null) {
            throw new IllegalStateException("quantizer of '" + target + "' has not been initialized");
        }
        return params;
    }

    public void setParams(QuantParams p) {
        int expected = p.channels();
        if (spec.granularity() == Granularity.PER_TENSOR && expected != 1) {
            throw new IllegalArgumentException(
                    "per-tensor quantizer of '" + target + "' takes 1 channel, got " + expected);
        }
        this.params = p;
    }

    @Override
    public String toString() {
        return "Quantizer[" + target + ", " + spec + (params == null ? "" : ", " + params) + "]";
    }
}
