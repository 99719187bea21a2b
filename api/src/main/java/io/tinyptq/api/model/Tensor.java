package io.tinyptq.api.model;

import io.tinyptq.api.InvalidModelException;
import java.util.Arrays;

/**
 * A dense float32 tensor in row-major order. {@link #data()} returns the backing array itself, not a copy:
 * kernels read and write it in place, and whoever shares a tensor shares its values.
 */
public final class Tensor {
    private final Shape shape;
    private final float[] data;

    public Tensor(Shape shape, float[] data) {
        if (data.length != shape.size()) {
            throw new IllegalArgumentException(
                    "tensor of shape " + shape + " needs " + shape.size() + " values, got " + data.length);
        }
        this.shape = shape;
        this.data = data;
    }

    public static Tensor zeros(Shape shape) {
        return new Tensor(shape, new float[shape.size()]);
    }

    public Shape shape() {
        return shape;
    }

    /** The backing array (not a copy). */
    public float[] data() {
        return data;
    }

    public Tensor copy() {
        return new Tensor(shape, data.clone());
    }

    /**
     * Fails if any value is NaN or infinite, naming {@code what} (a layer's weight, a tensor) and the first
     * offending index.
     */
    public Tensor requireFinite(String what) {
        for (int i = 0; i < data.length; i++) {
            if (!Float.isFinite(data[i])) {
                throw new InvalidModelException(what + " holds " + data[i] + " at flat index " + i + " (shape " + shape
                        + "); every value must be finite");
            }
        }
        return this;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Tensor t && shape.equals(t.shape) && Arrays.equals(data, t.data);
    }

    @Override
    public int hashCode() {
        return 31 * shape.hashCode() + Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        return "Tensor" + shape;
    }
}
