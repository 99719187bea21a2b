package io.tinyptq.api.spi;

import java.util.Set;

/**
 * A {@link TrainingProblem} compiled by a backend: inputs, targets and variables stay in buffers the backend owns (on
 * a GPU: device memory) across every {@link #run} call; only losses cross back per call. The session names no
 * algorithm: a plugin drives it with the steps it runs, the hyperparameters of the problem's operations
 * ({@link TrainingOps}) it sets per step, the regularizers it adds ({@link StepControl}), the variables it reads and
 * writes, and the losses it asks for.
 */
public interface TrainingSession extends AutoCloseable {

    /**
     * Runs {@code steps} optimizer steps on random mini-batches and returns their mean loss (the objective's, without
     * regularizers); {@code control} sets each step's hyperparameters and may add a regularizer's gradient.
     */
    double run(int steps, StepControl control);

    /** {@link #run(int, StepControl)} with the hyperparameters as they are and no regularizer. */
    default double run(int steps) {
        return run(steps, StepControl.NONE);
    }

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

    /**
     * Sets hyperparameter {@code name} of the problem's operations ({@link TrainingOps#HYPERPARAMETERS}) for the
     * following steps and evaluations. A hyperparameter of an operation the problem does not use is accepted and has
     * no effect.
     *
     * @throws IllegalArgumentException for a name that is not a hyperparameter, listing the known ones
     */
    void hyperparameter(String name, double value);

    /** The loss (MSE, or Fisher-weighted) over all samples, without changing anything. */
    double loss();

    /**
     * The variables a plugin may read and write: the rounding variable of each rounded layer
     * ({@link TrainingOps#roundingVariable}); empty where the problem has none.
     */
    default Set<String> variables() {
        return Set.of();
    }

    /** A copy of variable {@code name}'s current values. */
    default float[] read(String name) {
        throw new IllegalArgumentException("no variable '" + name + "'; the session has " + variables());
    }

    /** Replaces variable {@code name}'s values (same length as {@link #read}); the optimizer's state stays. */
    default void write(String name, float[] values) {
        throw new IllegalArgumentException("no variable '" + name + "'; the session has " + variables());
    }

    /**
     * Every sample's values of the model's tensor {@code tensor} in an evaluation forward pass, {@code samples x
     * size(tensor)} values sample after sample, as the ops reading it get them (after its activation quantizer where
     * the problem quantizes activations; the model's output before any). Changes nothing.
     *
     * @throws UnsupportedOperationException where the backend cannot report inner tensors
     */
    default float[] activations(String tensor) {
        throw new UnsupportedOperationException("this session cannot report the values of inner tensors");
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
     * quantizer parameters, weights and biases; rounded layers store their hard rounding ({@code V >= 0} rounds
     * up), weights on the quantizer's grid.
     */
    void commit();

    @Override
    void close();
}
