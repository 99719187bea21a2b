package io.tinyptq.api.integer;

/** The storage type of one tensor of an {@link IntegerModel}, as TFLite's {@code TensorType} names them. */
public enum ElementType {
    /** Signed 4-bit integers, two to a byte in a file; TFLite's {@code INT4}. */
    INT4(4),
    INT8(8),
    INT16(16),
    INT32(32),
    /** A float tensor at the model's boundary (a file with float inputs or outputs around its integer graph). */
    FLOAT32(32);

    private final int bits;

    ElementType(int bits) {
        this.bits = bits;
    }

    public int bits() {
        return bits;
    }

    public boolean isInteger() {
        return this != FLOAT32;
    }

    /** Smallest value of an integer type: {@code -2^(bits-1)}. */
    public long min() {
        return -(1L << (bits - 1));
    }

    /** Largest value of an integer type: {@code 2^(bits-1) - 1}. */
    public long max() {
        return (1L << (bits - 1)) - 1;
    }
}
