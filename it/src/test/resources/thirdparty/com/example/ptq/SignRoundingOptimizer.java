package com.example.ptq;

import io.tinyptq.api.model.Model;
import io.tinyptq.api.options.Option;
import io.tinyptq.api.quant.QuantizedModel;
import io.tinyptq.api.spi.CalibrationSet;
import io.tinyptq.api.spi.ModelExecutor;
import io.tinyptq.api.spi.QuantOptimizer;
import io.tinyptq.api.spi.StageContext;
import io.tinyptq.api.spi.StepControl;
import io.tinyptq.api.spi.TrainingOps;
import io.tinyptq.api.spi.TrainingProblem;
import io.tinyptq.api.spi.TrainingSession;
import io.tinyptq.api.spi.TrainingSettings;
import io.tinyptq.api.spi.Variable;
import java.util.Set;

/**
 * A gradient-based rounding method written outside tinyptq against its api alone: every weight's rounding is a
 * straight-through sign of a variable V (round up where V >= 0), trained on the whole model's output MSE, with a
 * regularizer of its own, {@code (decay / 2) Σ V^2}, that keeps V near the decision boundary so a weight can still
 * change sides late in training. The backend computes the forward and backward passes; the plugin adds its
 * regularizer's gradient {@code decay * V} after each backward pass.
 */
public final class SignRoundingOptimizer implements QuantOptimizer<SignRoundingOptimizer.Options> {

    public record Options(
            @Option(description = "Adam steps", min = 1, max = 1_000_000) int iterations,
            @Option(description = "Adam learning rate of V", min = 1e-9, max = 10) double learningRate,
            @Option(description = "weight of the regularizer (decay / 2) sum V^2", min = 0) double decay) {
    }

    @Override
    public String name() {
        return "sign-round";
    }

    @Override
    public String description() {
        return "straight-through sign rounding with a V^2 regularizer (third-party example)";
    }

    @Override
    public Class<Options> optionsType() {
        return Options.class;
    }

    @Override
    public Options defaultOptions() {
        return new Options(200, 1e-3, 1e-4);
    }

    @Override
    public void optimize(QuantizedModel model, Options o, StageContext context) {
        CalibrationSet calib = context.calibration();
        int n = calib.size();
        Model fp = model.reference();
        float[] targets;
        try (ModelExecutor exec = context.backend().compile(fp, null, n)) {
            targets = exec.forward(calib.data(), n, ModelExecutor.ActivationListener.NONE);
        }
        TrainingProblem problem = new TrainingProblem(model, Set.of(Variable.ROUNDING), calib.data(), targets, n, true,
                null).withRounding(TrainingOps.STRAIGHT_THROUGH_SIGN);
        try (TrainingSession session = context.backend().train(problem,
                new TrainingSettings(o.learningRate(), Math.min(32, n), context.seed()))) {
            double before = session.loss();
            double trained = session.run(o.iterations(), new StepControl() {
                @Override
                public boolean regularizes() {
                    return true;
                }

                @Override
                public void afterBackward(int step, Variables variables) {
                    for (String name : session.variables()) {
                        float[] v = variables.values(name);
                        float[] g = variables.gradient(name);
                        for (int i = 0; i < v.length; i++) {
                            g[i] += (float) o.decay() * v[i];
                        }
                    }
                }
            });
            double after = session.loss();
            session.commit();
            context.progress().message(String.format(java.util.Locale.ROOT,
                    "sign-round: loss %.4g -> %.4g (%d steps, training mean %.4g)", before, after, o.iterations(),
                    trained));
        }
    }
}
