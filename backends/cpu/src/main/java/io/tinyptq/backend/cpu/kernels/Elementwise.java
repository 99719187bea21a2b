package io.tinyptq.backend.cpu.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Element-wise kernels (add, ReLU, ReLU6) and the row sum behind bias gradients, over ranges
 * {@code [off, off+len)} of flat arrays. Reference methods are plain loops; the fast ones are Vector API loops,
 * split across threads only above {@link #PARALLEL_THRESHOLD} elements (below it the hand-off costs more than
 * it saves). Backward methods add into the gradient arrays.
 */
public final class Elementwise {
    private static final VectorSpecies<Float> S = MicroKernel.S;
    private static final int VL = MicroKernel.VL;
    /** Elements per thread below which an element-wise kernel stays on the calling thread. */
    static final int PARALLEL_THRESHOLD = 1 << 15;

    private Elementwise() {}

    // ------------------------------------------------------------------ add

    /** {@code y[i] = a[i] + b[i]}. */
    public static void addReference(float[] a, int aOff, float[] b, int bOff, float[] y, int yOff, int len) {
        checkRanges(a, aOff, b, bOff, y, yOff, len);
        for (int i = 0; i < len; i++) {
            y[yOff + i] = a[aOff + i] + b[bOff + i];
        }
    }

    /** Fast {@code y[i] = a[i] + b[i]}. The gradient of an add is the output gradient for both operands. */
    public static void add(float[] a, int aOff, float[] b, int bOff, float[] y, int yOff, int len, Parallel par) {
        checkRanges(a, aOff, b, bOff, y, yOff, len);
        par.forRange(len, PARALLEL_THRESHOLD, (t, from, to) -> {
            int i = from;
            for (; i <= to - VL; i += VL) {
                FloatVector.fromArray(S, a, aOff + i)
                        .add(FloatVector.fromArray(S, b, bOff + i))
                        .intoArray(y, yOff + i);
            }
            for (; i < to; i++) {
                y[yOff + i] = a[aOff + i] + b[bOff + i];
            }
        });
    }

    /** {@code dst[i] += src[i]}: gradient accumulation (reference). */
    public static void accumulateReference(float[] src, int sOff, float[] dst, int dOff, int len) {
        Checks.range("source", src, sOff, len);
        Checks.range("destination", dst, dOff, len);
        for (int i = 0; i < len; i++) {
            dst[dOff + i] += src[sOff + i];
        }
    }

    /** Fast {@code dst[i] += src[i]}. */
    public static void accumulate(float[] src, int sOff, float[] dst, int dOff, int len, Parallel par) {
        Checks.range("source", src, sOff, len);
        Checks.range("destination", dst, dOff, len);
        par.forRange(
                len,
                PARALLEL_THRESHOLD,
                (t, from, to) -> Conv2d.addInto(src, sOff + from, dst, dOff + from, to - from));
    }

    // ------------------------------------------------------------------ ReLU / ReLU6

    /** {@code y = min(max(x, 0), cap)}; {@code cap = +inf} is ReLU, {@code 6} is ReLU6. */
    public static void clampReference(float[] x, int xOff, float[] y, int yOff, int len, float cap) {
        Checks.range("input", x, xOff, len);
        Checks.range("output", y, yOff, len);
        for (int i = 0; i < len; i++) {
            y[yOff + i] = Math.min(Math.max(x[xOff + i], 0f), cap);
        }
    }

    /**
     * ReLU/ReLU6 gradient {@code dx += dy * [0 < x < cap]}, with {@code x} the activation's input. At the kinks
     * (x = 0 or x = cap) the gradient is taken as 0, as TensorFlow does.
     */
    public static void clampBackwardReference(
            float[] x, int xOff, float[] dy, int dyOff, float[] dx, int dxOff, int len, float cap) {
        checkRanges(x, xOff, dy, dyOff, dx, dxOff, len);
        for (int i = 0; i < len; i++) {
            float v = x[xOff + i];
            if (v > 0f && v < cap) {
                dx[dxOff + i] += dy[dyOff + i];
            }
        }
    }

    /** Fast {@code y = min(max(x, 0), cap)}. */
    public static void clamp(float[] x, int xOff, float[] y, int yOff, int len, float cap, Parallel par) {
        Checks.range("input", x, xOff, len);
        Checks.range("output", y, yOff, len);
        par.forRange(len, PARALLEL_THRESHOLD, (t, from, to) -> {
            int i = from;
            for (; i <= to - VL; i += VL) {
                FloatVector.fromArray(S, x, xOff + i).max(0f).min(cap).intoArray(y, yOff + i);
            }
            for (; i < to; i++) {
                y[yOff + i] = Math.min(Math.max(x[xOff + i], 0f), cap);
            }
        });
    }

    /** Fast ReLU/ReLU6 gradient {@code dx += dy * [0 < x < cap]}. */
    public static void clampBackward(
            float[] x, int xOff, float[] dy, int dyOff, float[] dx, int dxOff, int len, float cap, Parallel par) {
        checkRanges(x, xOff, dy, dyOff, dx, dxOff, len);
        par.forRange(len, PARALLEL_THRESHOLD, (t, from, to) -> {
            int i = from;
            for (; i <= to - VL; i += VL) {
                FloatVector v = FloatVector.fromArray(S, x, xOff + i);
                VectorMask<Float> pass = v.compare(VectorOperators.GT, 0f).and(v.compare(VectorOperators.LT, cap));
                FloatVector g = FloatVector.fromArray(S, dy, dyOff + i);
                FloatVector.fromArray(S, dx, dxOff + i).add(g, pass).intoArray(dx, dxOff + i);
            }
            for (; i < to; i++) {
                float v = x[xOff + i];
                if (v > 0f && v < cap) {
                    dx[dxOff + i] += dy[dyOff + i];
                }
            }
        });
    }

    // ------------------------------------------------------------------ row sums (bias gradients)

    /** {@code out[c] += sum_r m[r*cols + c]} (reference). */
    public static void sumRowsReference(float[] m, int rows, int cols, float[] out) {
        Checks.length("matrix", m, (long) rows * cols, rows, cols);
        Checks.length("row sum", out, cols, cols);
        for (int c = 0; c < cols; c++) {
            float acc = 0f;
            for (int r = 0; r < rows; r++) {
                acc += m[r * cols + c];
            }
            out[c] += acc;
        }
    }

    /** Fast {@code out[c] += sum_r m[r*cols + c]}: vectorized across columns, one thread. */
    public static void sumRows(float[] m, int rows, int cols, float[] out) {
        Checks.length("matrix", m, (long) rows * cols, rows, cols);
        Checks.length("row sum", out, cols, cols);
        int c = 0;
        for (; c <= cols - VL; c += VL) {
            FloatVector acc = FloatVector.zero(S);
            for (int r = 0; r < rows; r++) {
                acc = acc.add(FloatVector.fromArray(S, m, r * cols + c));
            }
            acc.add(FloatVector.fromArray(S, out, c)).intoArray(out, c);
        }
        for (; c < cols; c++) {
            float acc = 0f;
            for (int r = 0; r < rows; r++) {
                acc += m[r * cols + c];
            }
            out[c] += acc;
        }
    }

    private static void checkRanges(float[] a, int aOff, float[] b, int bOff, float[] y, int yOff, int len) {
        Checks.range("first operand", a, aOff, len);
        Checks.range("second operand", b, bOff, len);
        Checks.range("output", y, yOff, len);
    }
}
