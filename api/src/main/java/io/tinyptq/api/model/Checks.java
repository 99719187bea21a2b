package io.tinyptq.api.model;

import io.tinyptq.api.InvalidModelException;
import java.util.function.Function;

/** Shape checks shared by the {@link Op} records; every message names the layer. */
final class Checks {
    private Checks() {}

    static void names(String layer, String... names) {
        for (String n : names) {
            if (n == null || n.isBlank()) {
                throw new IllegalArgumentException("layer '" + layer + "': tensor and layer names must be non-blank");
            }
        }
    }

    static void positive(String layer, String what, int... values) {
        for (int v : values) {
            if (v <= 0) {
                throw new IllegalArgumentException("layer '" + layer + "': " + what + " must be > 0, got " + v);
            }
        }
    }

    static Shape rank(Op op, String tensor, Shape s, int rank) {
        if (s.rank() != rank) {
            throw new InvalidModelException("layer '" + op.name() + "' (" + op.type() + "): tensor '" + tensor
                    + "' has shape " + s + ", expected rank " + rank);
        }
        return s;
    }

    static void equal(Op op, String what, int found, int expected) {
        if (found != expected) {
            throw new InvalidModelException("layer '" + op.name() + "' (" + op.type() + "): " + what + " is " + found
                    + ", expected " + expected);
        }
    }

    static void bias(Op op, String bias, Function<String, Shape> shapeOf, int channels) {
        vector(op, "bias", bias, shapeOf, channels);
    }

    /** A per-channel constant (a bias, or BatchNorm's gamma/beta/mean/variance) must have shape {@code [channels]}. */
    static void vector(Op op, String role, String tensor, Function<String, Shape> shapeOf, int channels) {
        if (tensor != null) {
            Shape b = shapeOf.apply(tensor);
            if (b.rank() != 1 || b.dim(0) != channels) {
                throw new InvalidModelException("layer '" + op.name() + "' (" + op.type() + "): " + role + " '" + tensor
                        + "' has shape " + b + ", expected [" + channels + "]");
            }
        }
    }

    static int out(Op op, Padding p, int in, int k, int stride, boolean vertical) {
        int o = p.outputSize(in, k, stride, vertical);
        if (o <= 0) {
            throw new InvalidModelException("layer '" + op.name() + "' (" + op.type() + "): window " + k
                    + " does not fit input length " + in + " with padding " + p);
        }
        return o;
    }
}
