package io.tinyptq.deploy.c.memory;

/**
 * Values of {@code bits} bits (1 to 8) packed back to back, least significant bit first: element {@code i} occupies
 * bits {@code [i * bits, (i + 1) * bits)} of the little-endian byte stream, so a 3-bit element may straddle two
 * bytes. The generated runtime's {@code rt_get}/{@code rt_set} read and write the same layout.
 */
public final class BitPacking {
    private BitPacking() {}

    /** Bytes that hold {@code count} elements of {@code bits} bits. */
    public static int bytes(int count, int bits) {
        checkBits(bits);
        return (int) (((long) count * bits + 7) / 8);
    }

    /** Packs values in {@code [0, 2^bits)}. */
    public static byte[] packUnsigned(int[] values, int bits) {
        checkBits(bits);
        byte[] out = new byte[bytes(values.length, bits)];
        int max = (1 << bits) - 1;
        for (int i = 0; i < values.length; i++) {
            int v = values[i];
            if (v < 0 || v > max) {
                throw new IllegalArgumentException(
                        "element " + i + " = " + v + " does not fit " + bits + " unsigned bits [0, " + max + "]");
            }
            put(out, i, bits, v);
        }
        return out;
    }

    /** Packs values in {@code [-2^(bits-1), 2^(bits-1) - 1]} as two's complement. */
    public static byte[] packSigned(int[] values, int bits) {
        checkBits(bits);
        byte[] out = new byte[bytes(values.length, bits)];
        int lo = -(1 << (bits - 1));
        int hi = (1 << (bits - 1)) - 1;
        for (int i = 0; i < values.length; i++) {
            int v = values[i];
            if (v < lo || v > hi) {
                throw new IllegalArgumentException(
                        "element " + i + " = " + v + " does not fit " + bits + " signed bits [" + lo + ", " + hi + "]");
            }
            put(out, i, bits, v & ((1 << bits) - 1));
        }
        return out;
    }

    public static int[] unpackUnsigned(byte[] packed, int bits, int count) {
        checkLength(packed, bits, count);
        int[] out = new int[count];
        for (int i = 0; i < count; i++) {
            out[i] = get(packed, i, bits);
        }
        return out;
    }

    public static int[] unpackSigned(byte[] packed, int bits, int count) {
        checkLength(packed, bits, count);
        int[] out = new int[count];
        int shift = 32 - bits;
        for (int i = 0; i < count; i++) {
            out[i] = get(packed, i, bits) << shift >> shift;
        }
        return out;
    }

    /** The fewest bits whose two's complement range holds {@code [min, max]}. */
    public static int signedBits(int min, int max) {
        int bits = 1;
        while (bits < 32 && (min < -(1 << (bits - 1)) || max > (1 << (bits - 1)) - 1)) {
            bits++;
        }
        return bits;
    }

    /** The fewest bits whose unsigned range holds {@code [0, levels - 1]}. */
    public static int unsignedBits(int levels) {
        int bits = 1;
        while (bits < 31 && (1 << bits) < levels) {
            bits++;
        }
        return bits;
    }

    private static void put(byte[] out, int i, int bits, int v) {
        long bit = (long) i * bits;
        int at = (int) (bit >>> 3);
        int shift = (int) (bit & 7);
        int word = v << shift;
        out[at] |= (byte) word;
        if (shift + bits > 8) {
            out[at + 1] |= (byte) (word >>> 8);
        }
    }

    private static int get(byte[] packed, int i, int bits) {
        long bit = (long) i * bits;
        int at = (int) (bit >>> 3);
        int shift = (int) (bit & 7);
        int word = packed[at] & 0xff;
        if (shift + bits > 8) {
            word |= (packed[at + 1] & 0xff) << 8;
        }
        return (word >>> shift) & ((1 << bits) - 1);
    }

    private static void checkBits(int bits) {
        if (bits < 1 || bits > 8) {
            throw new IllegalArgumentException("packed elements have 1 to 8 bits, got " + bits);
        }
    }

    private static void checkLength(byte[] packed, int bits, int count) {
        if (count < 0 || packed.length < bytes(count, bits)) {
            throw new IllegalArgumentException(count + " elements of " + bits + " bits need " + bytes(count, bits)
                    + " bytes, got " + packed.length);
        }
    }
}
