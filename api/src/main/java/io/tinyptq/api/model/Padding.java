package io.tinyptq.api.model;

/**
 * Spatial padding of a convolution or pooling window.
 *
 * <p>{@code SAME} follows TensorFlow: the output size is {@code ceil(in/stride)}, the total padding is
 * {@code max((out-1)*stride + k - in, 0)}, and an odd total puts the extra row/column at the bottom/right
 * ({@code before = total/2}, {@code after = total - before}). {@code EXPLICIT} carries the four amounts.
 */
public record Padding(Kind kind, int top, int bottom, int left, int right) {
    public enum Kind {
        VALID,
        SAME,
        EXPLICIT
    }

    public static final Padding VALID = new Padding(Kind.VALID, 0, 0, 0, 0);
    public static final Padding SAME = new Padding(Kind.SAME, 0, 0, 0, 0);

    public Padding {
        if (top < 0 || bottom < 0 || left < 0 || right < 0) {
            throw new IllegalArgumentException("padding amounts must be >= 0");
        }
    }

    public static Padding explicit(int top, int bottom, int left, int right) {
        return new Padding(Kind.EXPLICIT, top, bottom, left, right);
    }

    /** Output length along one axis of input length {@code in}, window {@code k}, stride {@code s}. */
    public int outputSize(int in, int k, int s, boolean vertical) {
        return switch (kind) {
            case VALID -> (in - k) / s + 1;
            case SAME -> (in + s - 1) / s;
            case EXPLICIT -> (in + (vertical ? top + bottom : left + right) - k) / s + 1;
        };
    }

    /** Padding before the first element along one axis (top or left). */
    public int before(int in, int k, int s, boolean vertical) {
        return switch (kind) {
            case VALID -> 0;
            case SAME -> Math.max((outputSize(in, k, s, vertical) - 1) * s + k - in, 0) / 2;
            case EXPLICIT -> vertical ? top : left;
        };
    }

    @Override
    public String toString() {
        return kind == Kind.EXPLICIT ? "EXPLICIT(" + top + "," + bottom + "," + left + "," + right + ")" : kind.name();
    }
}
