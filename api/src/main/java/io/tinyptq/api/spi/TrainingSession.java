package io.tinyptq.api.spi;

/**
 * A {@link TrainingProblem} compiled by a backend: inputs, targets and variables stay in buffers the backend
 * owns (on a GPU: device memory) across every {@link #run} call; only losses cross back per call.
 */
public interface TrainingSession extends AutoCloseable {

    /**
     * Runs {@code steps} optimizer steps on random mini-batches and returns their mean reconstruction loss.
     *
     * @param rounding AdaRound's regularizer for these steps ({@link Rounding#NONE} outside AdaRound or during its
     *                 warm-up); its β goes linearly from {@code betaStart} to {@code betaEnd} over the steps
     */
    double run(int steps, Rounding rounding);

    /** Changes the optimizer's step size for the following steps (learning-rate schedules). */
    default void learningRate(double lr) {
        throw new UnsupportedOperationException("this session cannot change its learning rate");
    }

    /**
     * Changes the step size of the activation scales that train ({@link TrainingSettings#activationScales()}) for the
     * following steps (BRECQ's cosine decay); nothing happens when none trains.
     */
    default void activationLearningRate(double lr) {
        throw new UnsupportedOperationException("this session cannot change its activation learning rate");
    }

    /** Reconstruction loss (MSE, or Fisher-weighted) over all samples, without changing anything. */
    double loss();

    /**
     * The loss over all samples with every rounding variable hardened as {@link #commit} would store it, without
     * changing anything: AdaRound's soft loss can hide a gap to the rounding that is kept.
     *
     * @throws UnsupportedOperationException where the backend cannot evaluate it
     */
    default double hardLoss() {
        throw new UnsupportedOperationException("this session cannot evaluate the hardened rounding");
    }

    /**
     * Fixes, in every layer whose rounding trains, the {@code fraction} of its rounding variables that are most
     * decided (largest {@code |V|}, i.e. {@code h(V)} closest to 0 or 1) at their hard value for the rest of the
     * session: {@code h} becomes exactly 0 or 1 and receives no gradient, so the variables still free, and any other
     * trained variable, adapt to the rounding that will be kept. Variables fixed earlier stay fixed (they have the
     * largest {@code |V|}), so calls with growing fractions harden progressively.
     *
     * @param fraction in {@code [0, 1]}
     * @return the number of rounding variables fixed after the call, over all layers
     * @throws UnsupportedOperationException where the backend cannot fix part of the rounding
     */
    default long fixRounding(double fraction) {
        throw new UnsupportedOperationException("this session cannot fix part of its rounding");
    }

    /**
     * Hardens the rounding variables and refines those of the unit's last layer where its output meets the MSE and
     * each flip's effect can be evaluated exactly: a fully-connected layer (its loss is quadratic in the weights when
     * it has no activation) or a 2-D convolution, with or without activation. Coordinate descent keeps each single
     * weight's flip between rounding down and up that lowers the loss over all samples, for at most
     * {@code maxSweeps} passes, so {@link #hardLoss} never rises. Elsewhere nothing changes.
     *
     * @return the number of flips kept, or empty where the unit's last layer is not one the search handles
     * @throws UnsupportedOperationException where the backend cannot refine
     */
    default java.util.OptionalInt refineRounding(int maxSweeps) {
        return refineRounding(maxSweeps, false);
    }

    /**
     * {@link #refineRounding(int)}, and with {@code refitScales} each output channel of that layer whose weight
     * quantizer is symmetric per channel also gets its step size refit for the integer codes the search kept (the
     * loss as a function of one scale factor, searched exactly), the codes re-based on the new step and searched
     * again; a channel keeps the new step only where its loss falls. The weight quantizer then holds the new steps.
     *
     * @return the number of flips kept, or empty where the unit's last layer is not one the search handles
     * @throws UnsupportedOperationException where the backend cannot refine
     */
    default java.util.OptionalInt refineRounding(int maxSweeps, boolean refitScales) {
        throw new UnsupportedOperationException("this session cannot refine its rounding");
    }

    /**
     * The gradient of each sample's own objective with respect to the model's tensor {@code tensor} (its values
     * before any activation quantizer that reads it), for every sample: {@code samples x size(tensor)} values, sample
     * after sample. Changes nothing. BRECQ's Fisher weights are these gradients of the KL objective.
     */
    default float[] gradients(String tensor) {
        throw new UnsupportedOperationException("this session cannot report gradients of inner tensors");
    }

    /**
     * Writes the optimized variables back into the problem's {@link io.tinyptq.api.quant.QuantizedModel}:
     * quantizer parameters, weights and biases; rounding variables are hardened ({@code V >= 0} rounds up) and the
     * resulting on-grid weights stored.
     */
    void commit();

    @Override
    void close();

    /**
     * AdaRound's regularizer {@code λ Σ (1 - |2h(V) - 1|^β)} (Nagel et al. 2020, Eq. 24).
     *
     * @param lambda    weight of the regularizer
     * @param betaStart β at the first of the steps
     * @param betaEnd   β at the last of the steps
     */
    record Rounding(double lambda, double betaStart, double betaEnd) {
        public static final Rounding NONE = new Rounding(0, 20, 20);
    }
}
