package io.tinyptq.backend.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tinyptq.api.quant.FakeQuant;
import io.tinyptq.api.quant.IntegerGrid;
import io.tinyptq.api.spi.TrainingProblem;
import io.tinyptq.api.spi.TrainingSettings;
import io.tinyptq.testkit.LayerProblems;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The kernels against direct formulas and finite differences. */
class ReconKernelsTest {

    @Test
    void roundHalfEvenIsRint() {
        SplittableRandom r = new SplittableRandom(1);
        for (int i = 0; i < 100_000; i++) {
            float t = i < 2000 ? (i - 1000) * 0.5f : (float) ((r.nextDouble() - 0.5) * 1e4);
            assertEquals(Math.rint(t), ReconKernels.roundHalfEven(t), 0.0, "t = " + t);
        }
        assertEquals(0.0, ReconKernels.roundHalfEven(0.49999997f), 0.0);
        assertEquals(-2.0, ReconKernels.roundHalfEven(-2.5f), 0.0);
    }

    @Test
    void floorIsMathFloor() {
        SplittableRandom r = new SplittableRandom(3);
        for (int i = 0; i < 100_000; i++) {
            float x = i < 4000 ? (i - 2000) * 0.25f : (float) ((r.nextDouble() - 0.5) * Math.pow(10, r.nextInt(9)));
            assertEquals((float) Math.floor(x), ReconKernels.floor(x), 0f, "x = " + x);
        }
        assertEquals(-1f, ReconKernels.floor(-Float.MIN_VALUE), 0f);
    }

    @Test
    void fakeQuantIsEquationOne() {
        SplittableRandom r = new SplittableRandom(2);
        IntegerGrid g = IntegerGrid.unsigned(3);
        for (int i = 0; i < 100_000; i++) {
            float s = (float) (0.01 + r.nextDouble());
            float z = r.nextInt(8);
            float x = (float) ((r.nextDouble() - 0.5) * 40 * s);
            if (i % 3 == 0) {
                x = (Math.round(x / s) + 0.5f) * s; // near ties
            }
            assertEquals(
                    FakeQuant.quantize(x, s, z, g),
                    ReconKernels.fakeQuant(x, s, z, g.n(), g.p()),
                    0f,
                    "x=" + x + " s=" + s + " z=" + z);
        }
        assertEquals(FakeQuant.quantize(1e30f, 0.1f, 3, g), ReconKernels.fakeQuant(1e30f, 0.1f, 3, 0, 7), 0f);
    }

    /** The session's loss of one batch as a function of V, through the kernels' forward path only. */
    private static double batchLoss(LayerUnit u) {
        u.hyper[ReconKernels.TRAIN] = 0;
        u.hyper[ReconKernels.CLEAR_LOSS] = 1;
        ReconKernels.gatherInput(u.inputs, u.rows, u.x, u.dims, u.hyper);
        ReconKernels.quantizeWeights(u.weight, u.v, u.scale, u.zero, u.softWeight, u.dims, u.hyper);
        ReconKernels.forwardLoss(u.x, u.softWeight, u.bias, u.targets, u.rows, u.dy, u.squaredError, u.dims, u.hyper);
        ReconKernels.loss(u.squaredError, u.lossParts, u.dims, u.hyper);
        double sum = 0;
        for (float p : u.lossParts) {
            sum += p;
        }
        return sum;
    }

    /**
     * The V gradient the update kernel feeds Adam, read back through Adam's first step (the moment m = (1-β1) g),
     * equals central differences of the batch loss (plus the regularizer, computed directly) on strided, padded and
     * dense layers.
     */
    @Test
    void vGradientMatchesFiniteDifferences() {
        for (String layer : new String[] {"b2.conv1", "b2.shortcut", "fc"}) {
            TrainingProblem p = LayerProblems.resnet8(layer, 4, 4, 8, 3);
            LayerUnit u = LayerUnit.of(p, new TrainingSettings(1e-3, 4, 1));
            for (int b = 0; b < 4; b++) {
                u.rows[b] = b;
            }
            float beta = 6f;
            float regWeight = 0.3f;
            double base = batchLoss(u);
            u.hyper[ReconKernels.TRAIN] = 1;
            u.hyper[ReconKernels.BETA] = beta;
            u.hyper[ReconKernels.REG_WEIGHT] = regWeight;
            u.hyper[ReconKernels.ADAM_C1] = 1 - ReconKernels.ADAM_BETA1;
            u.hyper[ReconKernels.ADAM_C2] = 1 - ReconKernels.ADAM_BETA2;
            u.hyper[ReconKernels.LR] = 0; // leave V where it is
            ReconKernels.weightGrad(u.x, u.dy, u.weightGradParts, u.dims, u.hyper);
            ReconKernels.update(u.weight, u.v, u.weightGradParts, u.scale, u.zero, u.adamM, u.adamV, u.dims, u.hyper);
            SplittableRandom r = new SplittableRandom(4);
            int checked = 0;
            for (int k = 0; k < 40; k++) {
                int j = r.nextInt(u.v.length);
                float v0 = u.v[j];
                double eps = 1e-2;
                u.v[j] = (float) (v0 + eps);
                double plus = batchLoss(u) + regWeight * reg(u.v[j], beta);
                u.v[j] = (float) (v0 - eps);
                double minus = batchLoss(u) + regWeight * reg(u.v[j], beta);
                u.v[j] = v0;
                double numeric = (plus - minus) / (2 * eps);
                double analytic = u.adamM[j] / (1 - ReconKernels.ADAM_BETA1);
                double h = ReconKernels.sigmoid(v0) * 1.2 - 0.1;
                if (h < 0.02 || h > 0.98) {
                    continue; // near the rectifier's kinks the difference quotient straddles them
                }
                assertEquals(
                        numeric, analytic, 2e-3 * Math.max(1e-3, Math.abs(numeric)) + 1e-7, layer + " V[" + j + "]");
                checked++;
            }
            assertEquals(base, batchLoss(u), 0.0, "the update with lr 0 changed nothing");
            if (checked < 10) {
                throw new AssertionError(layer + ": only " + checked + " weights checked");
            }
        }
    }

    /** The regularizer term {@code 1 - |2h(V) - 1|^β} of one weight, directly. */
    private static double reg(float v, float beta) {
        double h = Math.min(Math.max(1 / (1 + Math.exp(-v)) * 1.2 - 0.1, 0), 1);
        return 1 - Math.pow(Math.abs(2 * h - 1), beta);
    }
}
