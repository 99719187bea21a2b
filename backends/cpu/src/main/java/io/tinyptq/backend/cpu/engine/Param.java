package io.tinyptq.backend.cpu.engine;

import java.util.Arrays;

/**
 * A learnable (or frozen) tensor of a {@link Graph}: weights, biases, fake-quantization scales and zero
 * points, AdaRound's V. {@link #data()} and {@link #grad()} are the backing arrays, updated in place by the
 * optimizers and by {@link Graph#backward}.
 */
public final class Param {
    private final String name;
    private final int[] shape;
    private final float[] data;
    private final float[] grad;
    private boolean trainable = true;

    Param(String name, int[] shape, float[] data) {
        int size = 1;
        for (int d : shape) {
            if (d < 1) {
                throw new IllegalArgumentException(
                        "parameter '" + name + "' has invalid shape " + Arrays.toString(shape));
            }
            size *= d;
        }
        if (data.length != size) {
            throw new IllegalArgumentException("parameter '" + name + "' of shape " + Arrays.toString(shape) + " needs "
                    + size + " values, got " + data.length);
        }
        this.name = name;
        this.shape = shape.clone();
        this.data = data;
        this.grad = new float[size];
    }

    public String name() {
        return name;
    }

    public int[] shape() {
        return shape.clone();
    }

    public int size() {
        return data.length;
    }

    /** The values (backing array, not a copy). */
    public float[] data() {
        return data;
    }

    /** The accumulated gradient (backing array, not a copy); zeroed by {@link Graph#zeroGrad()}. */
    public float[] grad() {
        return grad;
    }

    /** Whether {@link Graph#backward} computes this parameter's gradient (frozen parameters are skipped). */
    public boolean trainable() {
        return trainable;
    }

    /** Freezes or unfreezes the parameter; returns it. */
    public Param trainable(boolean value) {
        this.trainable = value;
        return this;
    }

    @Override
    public String toString() {
        return "Param[" + name + Arrays.toString(shape) + (trainable ? "" : ", frozen") + "]";
    }
}
