package io.tinyptq.api.spi;

import io.tinyptq.api.quant.QuantizedModel;
import java.util.Objects;
import java.util.Set;

/**
 * A reconstruction problem a backend can keep resident: make the quantized (sub-)model's output match
 * {@code targets} on {@code inputs} by changing {@code variables}.
 *
 * <p>{@code model} is a whole model or a unit cut from one (a layer, a block), with one input and one output
 * tensor; its quantizers must be initialized. {@code inputs} holds {@code samples} inputs back to back (for a
 * unit: the already-quantized preceding model's activations), {@code targets} the full-precision outputs.
 *
 * @param quantizeActivations whether the unit's activation quantizers are active while optimizing (the
 *                            paper's Figure 5 study turns them off)
 * @param fisherWeights       per-sample-element loss weights for BRECQ's Fisher-weighted MSE (same length as
 *                            {@code targets}), or {@code null} for plain MSE
 * @param fpInputs            QDrop (Wei et al. 2022): the unit's inputs as the full-precision model produces them
 *                            (same layout as {@code inputs}), or {@code null}; with them, each training step feeds
 *                            every input element quantized (the input quantizer applied to {@code inputs}) with
 *                            probability {@code quantizedInputProbability} and else its full-precision value, drawn
 *                            anew each step; the reported {@link TrainingSession#loss()} always uses quantized inputs
 * @param quantizedInputProbability QDrop's probability of keeping an input element quantized (its {@code drop_prob},
 *                            0.5 in the paper); 1 when {@code fpInputs} is null
 * @param rounding            where {@code variables} holds {@link Variable#ROUNDING}: the rounding operation of the
 *                            quantized weights, one of {@link TrainingOps#ROUNDINGS} (AdaRound's
 *                            {@link TrainingOps#RECTIFIED_SIGMOID} by default)
 * @param stepGradient        the gradient of every quantizer step that trains, one of
 *                            {@link TrainingOps#STEP_GRADIENTS} (LSQ's, {@link TrainingOps#LSQ_STEP}, by default)
 */
public record TrainingProblem(
        QuantizedModel model,
        Set<Variable> variables,
        float[] inputs,
        float[] targets,
        int samples,
        boolean quantizeActivations,
        float[] fisherWeights,
        Objective objective,
        int[] labels,
        float[] fpInputs,
        double quantizedInputProbability,
        String rounding,
        String stepGradient) {

    /** What the session minimizes. */
    public enum Objective {
        /** Mean squared error against {@code targets} (reconstruction), optionally Fisher-weighted. */
        MSE,
        /** Mean cross-entropy of the output logits against {@code labels} (training a classifier). */
        CROSS_ENTROPY,
        /**
         * Mean Kullback-Leibler divergence of softmax(output) from softmax({@code targets}), the targets being the
         * full-precision model's logits (BRECQ's task loss for the Fisher weights of a unit's output).
         */
        KL_DIVERGENCE
    }

    /**
     * A distillation problem: KL divergence of the model's output logits from {@code targetLogits} (the full-precision
     * model's), whose gradients with respect to inner tensors {@link TrainingSession#gradients} gives.
     */
    public static TrainingProblem divergence(
            QuantizedModel model,
            Set<Variable> variables,
            float[] inputs,
            float[] targetLogits,
            int samples,
            boolean quantizeActivations) {
        return new TrainingProblem(
                model,
                variables,
                inputs,
                targetLogits,
                samples,
                quantizeActivations,
                null,
                Objective.KL_DIVERGENCE,
                null,
                null,
                1,
                TrainingOps.RECTIFIED_SIGMOID,
                TrainingOps.LSQ_STEP);
    }

    /** A reconstruction problem: MSE against {@code targets}. */
    public TrainingProblem(
            QuantizedModel model,
            Set<Variable> variables,
            float[] inputs,
            float[] targets,
            int samples,
            boolean quantizeActivations,
            float[] fisherWeights) {
        this(
                model,
                variables,
                inputs,
                targets,
                samples,
                quantizeActivations,
                fisherWeights,
                Objective.MSE,
                null,
                null,
                1,
                TrainingOps.RECTIFIED_SIGMOID,
                TrainingOps.LSQ_STEP);
    }

    /** This problem with QDrop's random mix of quantized and full-precision inputs (see {@link #fpInputs()}). */
    public TrainingProblem withQDrop(float[] fullPrecisionInputs, double quantizedProbability) {
        return withOperations(fullPrecisionInputs, quantizedProbability, rounding, stepGradient);
    }

    /** This problem with the quantized weights rounded by {@code op}, one of {@link TrainingOps#ROUNDINGS}. */
    public TrainingProblem withRounding(String op) {
        return withOperations(fpInputs, quantizedInputProbability, op, stepGradient);
    }

    /**
     * This problem with the gradient of every trained step size given by {@code op}, one of
     * {@link TrainingOps#STEP_GRADIENTS}.
     */
    public TrainingProblem withStepGradient(String op) {
        return withOperations(fpInputs, quantizedInputProbability, rounding, op);
    }

    /** This problem with the components the {@code with} methods change, the rest as they are. */
    private TrainingProblem withOperations(
            float[] newFpInputs, double newQuantizedInputProbability, String newRounding, String newStepGradient) {
        return new TrainingProblem(
                model,
                variables,
                inputs,
                targets,
                samples,
                quantizeActivations,
                fisherWeights,
                objective,
                labels,
                newFpInputs,
                newQuantizedInputProbability,
                newRounding,
                newStepGradient);
    }

    /** A classification problem: cross-entropy of the model's output logits against {@code labels}. */
    public static TrainingProblem classification(
            QuantizedModel model, Set<Variable> variables, float[] inputs, int[] labels, boolean quantizeActivations) {
        return new TrainingProblem(
                model,
                variables,
                inputs,
                new float[0],
                labels.length,
                quantizeActivations,
                null,
                Objective.CROSS_ENTROPY,
                labels,
                null,
                1,
                TrainingOps.RECTIFIED_SIGMOID,
                TrainingOps.LSQ_STEP);
    }

    public TrainingProblem {
        Objects.requireNonNull(model);
        variables = Set.copyOf(variables);
        if (variables.isEmpty()) {
            throw new IllegalArgumentException("a training problem needs at least one variable");
        }
        Objects.requireNonNull(objective);
        TrainingOps.requireRounding(rounding);
        TrainingOps.requireStepGradient(stepGradient);
        if (objective == Objective.CROSS_ENTROPY && (labels == null || labels.length != samples)) {
            throw new IllegalArgumentException("a cross-entropy problem needs one label per sample (" + samples + ")");
        }
        if (samples < 1 || inputs.length % samples != 0 || targets.length % samples != 0) {
            throw new IllegalArgumentException(samples + " samples do not divide inputs (" + inputs.length
                    + " values) and targets (" + targets.length + " values)");
        }
        if (fpInputs != null && fpInputs.length != inputs.length) {
            throw new IllegalArgumentException(
                    "full-precision inputs hold " + fpInputs.length + " values, inputs " + inputs.length);
        }
        if (!(quantizedInputProbability > 0 && quantizedInputProbability <= 1)
                || fpInputs == null && quantizedInputProbability != 1) {
            throw new IllegalArgumentException(
                    "the probability of a quantized input must lie in (0, 1] and be 1 without"
                            + " full-precision inputs, got " + quantizedInputProbability);
        }
        if (fisherWeights != null && fisherWeights.length != targets.length) {
            throw new IllegalArgumentException(
                    "fisher weights hold " + fisherWeights.length + " values, targets " + targets.length);
        }
    }
}
