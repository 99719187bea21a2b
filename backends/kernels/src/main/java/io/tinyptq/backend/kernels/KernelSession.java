package io.tinyptq.backend.kernels;

import io.tinyptq.api.spi.MiniBatches;
import io.tinyptq.api.spi.StepControl;
import io.tinyptq.api.spi.TrainingOps;
import io.tinyptq.api.spi.TrainingProblem;
import io.tinyptq.api.spi.TrainingSession;
import io.tinyptq.api.spi.TrainingSettings;

/**
 * A {@link TrainingSession} that runs a {@link LayerUnit} through {@link ReconKernels}: the host draws each step's
 * mini-batch (the shared {@link MiniBatches} order, so a seed visits the same samples as on the cpu backend) and
 * fills the step's scalars; {@link #executeStep} runs the seven kernels of {@link ReconKernels}. Subclasses say
 * where: {@link #java} runs the kernels' plain loops on this thread; an accelerator backend runs one task graph per
 * step on its device, with only {@code rows} and {@code hyper} crossing per step and the loss partial sums crossing
 * back when a loss is asked for.
 */
public abstract class KernelSession implements TrainingSession {
    protected final LayerUnit unit;
    private final MiniBatches batches;
    private int[] order;
    private int cursor;
    private int adamSteps;

    protected KernelSession(LayerUnit unit, TrainingSettings settings) {
        this.unit = unit;
        this.batches = new MiniBatches(unit.samples(), settings.seed());
        this.order = batches.nextEpoch();
        unit.hyper[ReconKernels.LR] = (float) settings.learningRate();
        unit.hyper[ReconKernels.BETA] = 2f; // no regularizer (weight 0) until a control sets one
    }

    /** The problem run by the kernels' plain-Java loops on the calling thread (the oracle form). */
    public static KernelSession java(TrainingProblem problem, TrainingSettings settings) {
        return new Java(LayerUnit.of(problem, settings), settings);
    }

    /** Runs the step whose {@code rows} and {@code hyper} the unit holds now. */
    protected abstract void executeStep();

    /** Makes {@code unit.lossParts} current on the host. */
    protected abstract void readLoss();

    /** Makes the trained variables current on the host: {@code unit.v}, or {@code unit.weight} and {@code unit.bias}. */
    protected abstract void readVariables();

    public LayerUnit unit() {
        return unit;
    }

    @Override
    public double run(int steps, StepControl control) {
        if (control.regularizes()) {
            throw new UnsupportedOperationException("the kernels keep the variables on the device and cannot add a"
                    + " plugin's regularizer gradient between backward and update");
        }
        int batch = unit.batch();
        float[] h = unit.hyper;
        h[ReconKernels.TRAIN] = 1;
        for (int step = 0; step < steps; step++) {
            if (cursor + batch > order.length) {
                order = batches.nextEpoch();
                cursor = 0;
            }
            System.arraycopy(order, cursor, unit.rows, 0, batch);
            cursor += batch;
            control.beforeStep(step, steps, this);
            adamSteps++;
            h[ReconKernels.ADAM_C1] = (float) (1 - Math.pow(ReconKernels.ADAM_BETA1, adamSteps));
            h[ReconKernels.ADAM_C2] = (float) (1 - Math.pow(ReconKernels.ADAM_BETA2, adamSteps));
            h[ReconKernels.CLEAR_LOSS] = step == 0 ? 1 : 0;
            executeStep();
        }
        readLoss();
        return sumLossParts() / steps;
    }

    @Override
    public void learningRate(double lr) {
        unit.hyper[ReconKernels.LR] = (float) lr;
    }

    /** The rectified sigmoid's regularizer λ and β; the kernels have no hard-rounding forward pass. */
    @Override
    public void hyperparameter(String name, double value) {
        switch (name) {
            case TrainingOps.ROUNDING_LAMBDA -> unit.hyper[ReconKernels.REG_WEIGHT] = (float) value;
            case TrainingOps.ROUNDING_BETA -> unit.hyper[ReconKernels.BETA] = (float) value;
            case TrainingOps.ROUNDING_HARD ->
                throw new UnsupportedOperationException("the kernels evaluate the soft rounding only");
            default ->
                throw new IllegalArgumentException(
                        "unknown hyperparameter '" + name + "'; known: " + TrainingOps.HYPERPARAMETERS);
        }
    }

    @Override
    public void activationLearningRate(double lr) {
        // no activation scale trains in a kernel session (LayerUnit.of refuses those problems)
    }

    /** Mean squared error over all samples with the current soft-rounded weights; changes nothing. */
    @Override
    public double loss() {
        int batch = unit.batch();
        int samples = unit.samples();
        float[] h = unit.hyper;
        h[ReconKernels.TRAIN] = 0;
        for (int start = 0; start < samples; start += batch) {
            for (int b = 0; b < batch; b++) {
                unit.rows[b] = start + b < samples ? start + b : -1;
            }
            h[ReconKernels.CLEAR_LOSS] = start == 0 ? 1 : 0;
            executeStep();
        }
        h[ReconKernels.TRAIN] = 1;
        readLoss();
        // Each chunk added sum(sq) / (batch * outSize); padding rows added 0.
        return sumLossParts() * batch / samples;
    }

    private double sumLossParts() {
        double sum = 0;
        for (float p : unit.lossParts) {
            sum += p;
        }
        return sum;
    }

    @Override
    public void commit() {
        readVariables();
        unit.commit();
    }

    @Override
    public void close() {}

    /** The kernels' plain loops, in order, on the calling thread. */
    private static final class Java extends KernelSession {
        Java(LayerUnit unit, TrainingSettings settings) {
            super(unit, settings);
        }

        @Override
        protected void executeStep() {
            LayerUnit u = unit;
            ReconKernels.gatherInput(u.inputs, u.rows, u.x, u.dims, u.hyper);
            ReconKernels.quantizeWeights(u.weight, u.v, u.scale, u.zero, u.softWeight, u.dims, u.hyper);
            ReconKernels.forwardLoss(
                    u.x, u.softWeight, u.bias, u.targets, u.rows, u.dy, u.squaredError, u.dims, u.hyper);
            ReconKernels.loss(u.squaredError, u.lossParts, u.dims, u.hyper);
            ReconKernels.weightGrad(u.x, u.dy, u.weightGradParts, u.dims, u.hyper);
            ReconKernels.update(u.weight, u.v, u.weightGradParts, u.scale, u.zero, u.adamM, u.adamV, u.dims, u.hyper);
            ReconKernels.biasUpdate(u.dy, u.bias, u.biasAdamM, u.biasAdamV, u.dims, u.hyper);
        }

        @Override
        protected void readLoss() {}

        @Override
        protected void readVariables() {}
    }
}
