package io.tinyptq.testkit;

import io.tinyptq.api.spi.StepControl;
import io.tinyptq.api.spi.TrainingOps;
import io.tinyptq.api.spi.TrainingSession;

/** A rectified-sigmoid regularizer for tests: weight λ per loss element, β linear over each run call. */
public final class RoundingControl {
    private RoundingControl() {}

    /** λ (0: off) and β from {@code betaStart} at a call's first step to {@code betaEnd} at its last. */
    public static StepControl of(double lambda, double betaStart, double betaEnd) {
        return new StepControl() {
            @Override
            public void beforeStep(int step, int steps, TrainingSession session) {
                double t = steps == 1 ? 0 : (double) step / (steps - 1);
                session.hyperparameter(TrainingOps.ROUNDING_BETA, (float) (betaStart + (betaEnd - betaStart) * t));
                session.hyperparameter(TrainingOps.ROUNDING_LAMBDA, (float) lambda);
            }
        };
    }
}
