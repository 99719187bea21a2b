package io.tinyptq.api.spi;

import java.util.List;

/**
 * The vocabulary of differentiable operations a {@link TrainingProblem} asks a backend for by name, and the names of
 * their hyperparameters and variables: how weights round ({@link #ROUNDINGS}) and how a quantizer's step size gets
 * its gradient ({@link #STEP_GRADIENTS}); the losses are {@link TrainingProblem.Objective}. A plugin composes an
 * algorithm from these; a backend implements each (and refuses a name it does not know, listing the known ones); the
 * backends' differential tests hold them to one meaning. A new gradient-based rounding method is a plugin that
 * picks one of {@link #ROUNDINGS} and, where it needs a regularizer of its own, adds that regularizer's gradient in
 * {@link StepControl#afterBackward}; only a new differentiable form of the rounded weight, or of a step size's
 * gradient, is a new entry here that every backend implements.
 *
 * <p>Every rounding operation maps a weight {@code W} of a layer whose quantizer has step {@code s} and zero point
 * {@code z} (per output channel) to {@code s * (clamp(floor(W/s) + z + r, n, p) - z)}, with {@code r} in [0, 1] a
 * function of one variable {@code V} per weight; they differ in {@code r} and its gradient. Each session holds one
 * {@code V} per rounded layer, named {@link #roundingVariable}; {@link TrainingSession#commit} stores the hard
 * rounding {@code r = [V >= 0]}.
 */
public final class TrainingOps {
    private TrainingOps() {}

    /**
     * AdaRound's rectified sigmoid (Nagel et al. 2020, Eq. 23): {@code r = h(V) = clamp(sigmoid(V)(ζ - γ) + γ, 0, 1)},
     * ζ = 1.1, γ = -0.1, gradient {@code dW~/dV = s h'(V)}. {@code V} starts where {@code h(V)} equals the fractional
     * part of {@code W/s}, so training starts at the float weight. Its regularizer is built in: with
     * {@link #ROUNDING_LAMBDA} above 0, the gradient of {@code λ Σ (1 - |2h(V) - 1|^β)} (Eq. 24) joins V's in the same
     * pass.
     */
    public static final String RECTIFIED_SIGMOID = "rectified_sigmoid";

    /**
     * A straight-through sign: {@code r = [V >= 0]} in the forward pass and {@code dr/dV = 1} in the backward pass, so
     * {@code dW~/dV = s} inside the grid. {@code V} starts at the fractional part of {@code W/s} minus one half, so
     * training starts at rounding to nearest. It has no regularizer of its own.
     */
    public static final String STRAIGHT_THROUGH_SIGN = "straight_through_sign";

    /** Every rounding operation, for messages. */
    public static final List<String> ROUNDINGS = List.of(RECTIFIED_SIGMOID, STRAIGHT_THROUGH_SIGN);

    /**
     * LSQ's step-size gradient (Esser et al. 2020, Eq. 3): for {@code q = clamp(round(x/s), n, p)}, {@code dq~/ds} is
     * {@code round(x/s) - x/s} inside the grid and {@code n} or {@code p} where clamped, times the gradient scale
     * {@code g = 1/sqrt(N p)} (their Sec. 2.2), {@code N} the elements sharing the step. It is the gradient of every
     * step that trains: the quantizer parameters of {@link Variable#QPARAMS}, and the activation steps trained beside
     * other variables ({@link TrainingSettings#activationScales()}). The default.
     */
    public static final String LSQ_STEP = "lsq";

    /**
     * {@link #LSQ_STEP}'s gradient without its scale ({@code g = 1}). Under Adam a constant factor on a parameter's
     * gradients acts only through Adam's epsilon, so {@link #LSQ_STEP} is this with epsilon times
     * {@code sqrt(N p)}: it holds back the steps of large tensors (docs/results/studies/2026-12-lsq-step-gradient.md).
     */
    public static final String UNSCALED_STEP = "unscaled";

    /** Every step-size gradient, for messages. */
    public static final List<String> STEP_GRADIENTS = List.of(LSQ_STEP, UNSCALED_STEP);

    /**
     * Hyperparameter: the weight λ of {@link #RECTIFIED_SIGMOID}'s regularizer per element of the loss (the session's
     * loss is a mean over every output element; 0 turns the regularizer off).
     */
    public static final String ROUNDING_LAMBDA = "rounding.lambda";

    /** Hyperparameter: the exponent β of {@link #RECTIFIED_SIGMOID}'s regularizer. */
    public static final String ROUNDING_BETA = "rounding.beta";

    /**
     * Hyperparameter: 1 makes every rounding operation compute its hard form {@code r = [V >= 0]} (as commit stores
     * it) in the following forward passes, 0 returns to the soft form; the loss of the kept rounding is
     * {@link TrainingSession#loss()} with it set to 1.
     */
    public static final String ROUNDING_HARD = "rounding.hard";

    /** Every hyperparameter a session accepts, for messages. */
    public static final List<String> HYPERPARAMETERS = List.of(ROUNDING_LAMBDA, ROUNDING_BETA, ROUNDING_HARD);

    /** The name of layer {@code layer}'s rounding variable {@code V} (one value per weight, the weight's layout). */
    public static String roundingVariable(String layer) {
        return "rounding/" + layer;
    }

    /** Checks that {@code stepGradient} is one of {@link #STEP_GRADIENTS}. */
    public static String requireStepGradient(String stepGradient) {
        if (!STEP_GRADIENTS.contains(stepGradient)) {
            throw new IllegalArgumentException(
                    "unknown step-size gradient '" + stepGradient + "'; known: " + STEP_GRADIENTS);
        }
        return stepGradient;
    }

    /** Checks that {@code rounding} is one of {@link #ROUNDINGS}. */
    public static String requireRounding(String rounding) {
        if (!ROUNDINGS.contains(rounding)) {
            throw new IllegalArgumentException("unknown rounding operation '" + rounding + "'; known: " + ROUNDINGS);
        }
        return rounding;
    }
}
