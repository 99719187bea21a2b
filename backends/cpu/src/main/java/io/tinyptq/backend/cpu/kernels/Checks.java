package io.tinyptq.backend.cpu.kernels;

import java.util.Arrays;

/** Argument checks shared by the kernels; failures are {@link IllegalArgumentException}s naming the shapes. */
final class Checks {
    private Checks() {}

    /** Requires {@code array.length >= needed}, naming the operand and its logical shape. */
    static void length(String operand, float[] array, long needed, Object shape) {
        if (array == null) {
            throw new IllegalArgumentException(operand + " is null (expected shape " + shape + ")");
        }
        if (array.length < needed) {
            throw new IllegalArgumentException(
                    operand + " has " + array.length + " elements, shape " + shape + " needs " + needed);
        }
    }

    static void length(String operand, float[] array, long needed, int... dims) {
        if (array == null || array.length < needed) {
            length(operand, array, needed, (Object) Arrays.toString(dims));
        }
    }

    static void range(String operand, float[] array, int off, int len) {
        if (array == null || off < 0 || len < 0 || (long) off + len > array.length) {
            throw new IllegalArgumentException(operand + ": range [" + off + ", " + off + "+" + len
                    + ") outside array of " + (array == null ? "null" : array.length + " elements"));
        }
    }

    static void positive(String what, int... values) {
        for (int v : values) {
            if (v < 1) {
                throw new IllegalArgumentException(what + " must be positive, got " + Arrays.toString(values));
            }
        }
    }
}
