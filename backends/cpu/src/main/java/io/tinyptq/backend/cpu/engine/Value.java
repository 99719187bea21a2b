package io.tinyptq.backend.cpu.engine;

import java.util.Arrays;

/**
 * A tensor of a {@link Graph}: either a batched activation (shape per sample, storage for the graph's maximum
 * batch, NHWC) or an unbatched tensor (a parameter, or a weight derived from parameters by fake quantization or
 * AdaRound). Storage and gradient are allocated once, when the value is created.
 */
public final class Value {
    final String name;
    final int[] shape;
    final boolean batched;
    final int sampleSize;
    float[] data;
    float[] grad;
    final Param param;
    boolean requiresGrad;
    /** True for a reshape view: its storage belongs to another value, which zeroes the shared gradient. */
    boolean alias;

    Node producer;

    Value(String name, int[] shape, boolean batched, int maxBatch, Param param) {
        this.name = name;
        this.shape = shape.clone();
        this.batched = batched;
        int size = 1;
        for (int d : shape) {
            if (d < 1) {
                throw new IllegalArgumentException("value '" + name + "' has invalid shape " + Arrays.toString(shape));
            }
            size *= d;
        }
        this.sampleSize = size;
        this.param = param;
        if (param != null) {
            this.data = param.data();
            this.grad = param.grad();
        } else {
            int n = batched ? size * maxBatch : size;
            this.data = new float[n];
            this.grad = new float[n];
        }
    }

    public String name() {
        return name;
    }

    /** Per-sample shape for batched values, full shape otherwise. */
    public int[] shape() {
        return shape.clone();
    }

    public boolean batched() {
        return batched;
    }

    /** Elements per sample (batched) or in total (unbatched). */
    public int sampleSize() {
        return sampleSize;
    }

    /** Elements for a batch of {@code n}. */
    public int size(int n) {
        return batched ? n * sampleSize : sampleSize;
    }

    /** The values (backing array; the first {@link #size(int)} elements are the current batch). */
    public float[] data() {
        return data;
    }

    /** The gradient of the graph's loss with respect to this value after {@link Graph#backward()}. */
    public float[] grad() {
        return grad;
    }

    /** Requests the gradient of an input value (inputs have none by default). Returns this. */
    public Value requireGrad() {
        this.requiresGrad = true;
        return this;
    }

    int dim(int axis) {
        return shape[axis < 0 ? shape.length + axis : axis];
    }

    int rank() {
        return shape.length;
    }

    @Override
    public String toString() {
        return name + (batched ? "[N," : "[") + Arrays.toString(shape).replaceAll("[\\[\\]]", "") + "]";
    }
}
