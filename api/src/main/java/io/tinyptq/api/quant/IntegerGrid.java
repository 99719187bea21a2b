package io.tinyptq.api.quant;

/**
 * The integer grid {@code [n, p]} of Eq. 1: {@code clamp(., n, p)}. A b-bit signed grid is
 * {@code [-2^(b-1), 2^(b-1)-1]}, an unsigned one {@code [0, 2^b-1]}; both hold {@code 2^b} levels. A narrow
 * one (TFLite's symmetric weights) drops the most negative level.
 */
public record IntegerGrid(int n, int p) {
    public IntegerGrid {
        if (n >= p) {
            throw new IllegalArgumentException("integer grid needs n < p, got [" + n + ", " + p + "]");
        }
    }

    public static IntegerGrid signed(int bits) {
        checkBits(bits);
        return new IntegerGrid(-(1 << (bits - 1)), (1 << (bits - 1)) - 1);
    }

    /** The signed grid without its most negative level, {@code [-(2^(b-1)-1), 2^(b-1)-1]} (TFLite's weights). */
    public static IntegerGrid narrow(int bits) {
        checkBits(bits);
        if (bits < 2) {
            throw new IllegalArgumentException("a narrow grid needs 2 bits or more, got " + bits);
        }
        return new IntegerGrid(-(1 << (bits - 1)) + 1, (1 << (bits - 1)) - 1);
    }

    public static IntegerGrid unsigned(int bits) {
        checkBits(bits);
        return new IntegerGrid(0, (1 << bits) - 1);
    }

    /** Number of grid levels minus one: {@code p - n = 2^b - 1}. */
    public int levels() {
        return p - n;
    }

    static void checkBits(int bits) {
        if (bits < 1 || bits > 16) {
            throw new IllegalArgumentException("bit-width must be in 1..16, got " + bits);
        }
    }

    @Override
    public String toString() {
        return "[" + n + ", " + p + "]";
    }
}
