package io.tinyptq.backend.cpu.engine;

import java.util.List;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Adam (Kingma and Ba 2015): {@code m = b1*m + (1-b1)*g}, {@code v = b2*v + (1-b2)*g^2},
 * {@code p -= lr * (m/(1-b1^t)) / (sqrt(v/(1-b2^t)) + eps)}. Moments are kept per parameter in float arrays
 * allocated once.
 */
public final class Adam implements Optimizer {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int LANES = SPECIES.length();
    private final List<Param> params;
    private final float[][] m;
    private final float[][] v;
    private float learningRate;
    private final float beta1;
    private final float beta2;
    private final float epsilon;
    private int steps;

    /** Adam with PyTorch's defaults {@code beta1 = 0.9, beta2 = 0.999, eps = 1e-8}. */
    public Adam(List<Param> params, float learningRate) {
        this(params, learningRate, 0.9f, 0.999f, 1e-8f);
    }

    public Adam(List<Param> params, float learningRate, float beta1, float beta2, float epsilon) {
        if (!(learningRate > 0) || beta1 < 0 || beta1 >= 1 || beta2 < 0 || beta2 >= 1 || !(epsilon > 0)) {
            throw new IllegalArgumentException("Adam needs lr > 0, 0 <= betas < 1, eps > 0");
        }
        this.params = List.copyOf(params);
        this.m = new float[this.params.size()][];
        this.v = new float[this.params.size()][];
        for (int i = 0; i < m.length; i++) {
            m[i] = new float[this.params.get(i).size()];
            v[i] = new float[this.params.get(i).size()];
        }
        this.learningRate = learningRate;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.epsilon = epsilon;
    }

    public void learningRate(float lr) {
        this.learningRate = lr;
    }

    /**
     * One update of every parameter. The vector loop evaluates each lane with the same operations in the same
     * order as the scalar tail (no fused multiply-add, IEEE division and square root), so results do not depend
     * on the vector width.
     */
    @Override
    public void step() {
        steps++;
        float c1 = (float) (1 - Math.pow(beta1, steps));
        float c2 = (float) (1 - Math.pow(beta2, steps));
        float keep1 = 1 - beta1;
        float keep2 = 1 - beta2;
        for (int k = 0; k < m.length; k++) {
            float[] p = params.get(k).data();
            float[] g = params.get(k).grad();
            float[] mk = m[k];
            float[] vk = v[k];
            int i = 0;
            for (; i <= p.length - LANES; i += LANES) {
                FloatVector gv = FloatVector.fromArray(SPECIES, g, i);
                FloatVector mv =
                        FloatVector.fromArray(SPECIES, mk, i).mul(beta1).add(gv.mul(keep1));
                FloatVector vv = FloatVector.fromArray(SPECIES, vk, i)
                        .mul(beta2)
                        .add(gv.mul(keep2).mul(gv));
                mv.intoArray(mk, i);
                vv.intoArray(vk, i);
                FloatVector step =
                        mv.div(c1).mul(learningRate).div(vv.div(c2).sqrt().add(epsilon));
                FloatVector.fromArray(SPECIES, p, i).sub(step).intoArray(p, i);
            }
            for (; i < p.length; i++) {
                mk[i] = beta1 * mk[i] + keep1 * g[i];
                vk[i] = beta2 * vk[i] + keep2 * g[i] * g[i];
                p[i] -= learningRate * (mk[i] / c1) / ((float) Math.sqrt(vk[i] / c2) + epsilon);
            }
        }
    }

    @Override
    public List<Param> params() {
        return params;
    }
}
