package io.tinyptq.backend.cpu.engine;

import java.util.List;

/**
 * Stochastic gradient descent with (heavy-ball) momentum, as PyTorch defines it:
 * {@code v = momentum*v + g; p -= lr*v} (with {@code momentum = 0} plain SGD).
 */
public final class Sgd implements Optimizer {
    private final List<Param> params;
    private final float[][] velocity;
    private float learningRate;
    private final float momentum;

    public Sgd(List<Param> params, float learningRate, float momentum) {
        if (!(learningRate > 0) || momentum < 0 || momentum >= 1) {
            throw new IllegalArgumentException(
                    "SGD needs lr > 0 and 0 <= momentum < 1, got " + learningRate + ", " + momentum);
        }
        this.params = List.copyOf(params);
        this.velocity = new float[this.params.size()][];
        for (int i = 0; i < velocity.length; i++) {
            velocity[i] = new float[this.params.get(i).size()];
        }
        this.learningRate = learningRate;
        this.momentum = momentum;
    }

    public void learningRate(float lr) {
        this.learningRate = lr;
    }

    @Override
    public void step() {
        for (int k = 0; k < velocity.length; k++) {
            float[] p = params.get(k).data();
            float[] g = params.get(k).grad();
            float[] v = velocity[k];
            for (int i = 0; i < p.length; i++) {
                v[i] = momentum * v[i] + g[i];
                p[i] -= learningRate * v[i];
            }
        }
    }

    @Override
    public List<Param> params() {
        return params;
    }
}
