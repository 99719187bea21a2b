package io.tinyptq.api.spi;

/**
 * What a plugin does around each step of {@link TrainingSession#run}: set the step's hyperparameters (a schedule), and
 * add the gradient of a regularizer of its own to the trained variables.
 */
public interface StepControl {
    /** No hyperparameter changes and no regularizer. */
    StepControl NONE = new StepControl() {};

    /**
     * Before step {@code step} of the {@code steps} of a {@link TrainingSession#run} call (0-based): sets the step's
     * hyperparameters through {@link TrainingSession#hyperparameter}.
     */
    default void beforeStep(int step, int steps, TrainingSession session) {}

    /**
     * After the backward pass of step {@code step}, before the optimizer moves the variables: may add a regularizer's
     * gradient to {@code variables}' gradients. Backends that keep the variables on a device refuse problems whose
     * control overrides this ({@link #regularizes()}).
     */
    default void afterBackward(int step, Variables variables) {}

    /** Whether {@link #afterBackward} does anything; a control that overrides it returns true. */
    default boolean regularizes() {
        return false;
    }

    /** The trained variables as the step left them, read and written in place. */
    interface Variables {
        /** The current values of {@code name} (see {@link TrainingSession#variables()}); do not change them. */
        float[] values(String name);

        /** The gradient of the loss with respect to {@code name}, to add to. */
        float[] gradient(String name);
    }
}
