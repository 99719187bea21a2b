package io.tinyptq.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyptq.api.model.Model;
import io.tinyptq.api.model.Unit;
import io.tinyptq.api.model.Units;
import io.tinyptq.api.quant.QuantScheme;
import io.tinyptq.api.quant.QuantizedModel;
import io.tinyptq.api.spi.CalibrationSet;
import io.tinyptq.api.spi.ModelExecutor;
import io.tinyptq.backend.cpu.CpuBackend;
import io.tinyptq.kernel.Kernel;
import io.tinyptq.kernel.pipeline.RunOptions;
import io.tinyptq.kernel.recipe.Calibration;
import io.tinyptq.kernel.recipe.Recipe;
import io.tinyptq.plugins.optimize.OutputFisher;
import io.tinyptq.testkit.TestContext;
import io.tinyptq.testkit.TinyModels;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The output-weighted loss's weights against a direct evaluation of their formula on an MLP, where the Jacobian
 * from a unit's output to the logits is known in closed form: {@code F = sum_y p_y ((J^T (q - e_y))_i)^2}, with
 * {@code J} the identity for the classifier's own output and the classifier's weight matrix for the hidden layer's.
 */
class OutputFisherTest {
    static final Kernel KERNEL = Kernel.discover();
    static final int IN = 6;
    static final int HIDDEN = 8;
    static final int CLASSES = 4;
    static final int N = 48;
    static final Model MODEL = TinyModels.mlp(5, IN, HIDDEN, CLASSES);
    static final float[] DATA = TinyModels.uniform(6, N, MODEL.shape("x"), -2f, 2f);
    static final CalibrationSet CALIB = new CalibrationSet("uniform(seed 6)", MODEL.shape("x"), DATA, new int[0]);
    static final CpuBackend.Options CPU = new CpuBackend.Options(1);

    /** The MLP with its quantizers initialized (MinMax, 3-bit weights and activations) and nothing optimized. */
    static QuantizedModel initialized() {
        Recipe r = Recipe.builder("test").seed(1).calibration(new Calibration(N, 16)).quantization(QuantScheme.of(3, 3))
                .backend("cpu", CPU).initWeights("minmax", null).initActivations("minmax", null)
                .build(KERNEL.registry());
        return KERNEL.runner().run(r, MODEL, CALIB, RunOptions.defaults()).quantized();
    }

    static float[] logits(Model model, QuantizedModel quantized) {
        try (ModelExecutor e = new CpuBackend().compile(model, quantized, N, CPU)) {
            return e.forward(DATA, N, ModelExecutor.ActivationListener.NONE);
        }
    }

    static double[] softmax(float[] logits, int n) {
        double[] p = new double[CLASSES];
        double max = Double.NEGATIVE_INFINITY;
        for (int k = 0; k < CLASSES; k++) {
            max = Math.max(max, logits[n * CLASSES + k]);
        }
        double sum = 0;
        for (int k = 0; k < CLASSES; k++) {
            p[k] = Math.exp(logits[n * CLASSES + k] - max);
            sum += p[k];
        }
        for (int k = 0; k < CLASSES; k++) {
            p[k] /= sum;
        }
        return p;
    }

    /** {@code F} of the unit whose output reaches the logits through {@code j} ({@code [CLASSES][size]}). */
    static double[] directFisher(float[] fpLogits, float[] qLogits, double[][] j) {
        int size = j[0].length;
        double[] f = new double[N * size];
        for (int n = 0; n < N; n++) {
            double[] p = softmax(fpLogits, n);
            double[] q = softmax(qLogits, n);
            for (int y = 0; y < CLASSES; y++) {
                for (int i = 0; i < size; i++) {
                    double g = 0;
                    for (int k = 0; k < CLASSES; k++) {
                        g += j[k][i] * (q[k] - (k == y ? 1 : 0));
                    }
                    f[n * size + i] += p[y] * g * g;
                }
            }
        }
        return f;
    }

    static void assertWeights(double[] f, double damping, float[] w) {
        double mean = 0;
        for (double v : f) {
            mean += v;
        }
        mean /= f.length;
        assertEquals(f.length, w.length);
        double spread = 0;
        for (int i = 0; i < f.length; i++) {
            double expected = (f[i] / mean + damping) / (1 + damping);
            assertEquals(expected, w[i], 1e-4 * Math.max(1, expected), "weight " + i);
            spread = Math.max(spread, Math.abs(expected - 1));
        }
        assertTrue(spread > 0.5, "the weights differ from the plain MSE's ones: " + spread);
    }

    @Test
    void theClassifiersWeightsArePMinusTwoPQPlusQSquared() {
        QuantizedModel qm = initialized();
        List<Unit> units = Units.layers(MODEL);
        float[] w = OutputFisher.weights(new TestContext(1, CALIB, new CpuBackend(), CPU), MODEL, qm, units, 1, N, 16,
                true, 0);
        // J = I: F_k = sum_y p_y (q_k - [k = y])^2 = p_k - 2 p_k q_k + q_k^2.
        double[][] identity = new double[CLASSES][CLASSES];
        for (int k = 0; k < CLASSES; k++) {
            identity[k][k] = 1;
        }
        float[] q = logits(MODEL, qm.keepOnly(Set.of("fc1", "fc2"), Set.of("x", "h")));
        assertWeights(directFisher(logits(MODEL, null), q, identity), 0, w);
    }

    @Test
    void theHiddenLayersWeightsGoThroughTheClassifiersMatrix() {
        QuantizedModel qm = initialized();
        List<Unit> units = Units.layers(MODEL);
        float[] w = OutputFisher.weights(new TestContext(1, CALIB, new CpuBackend(), CPU), MODEL, qm, units, 0, N, 16,
                true, 0.5);
        // The classifier runs in full precision on the hidden layer's output, so J = fc2.w ([CLASSES][HIDDEN]).
        float[] w2 = MODEL.constant("fc2.w").data();
        double[][] j = new double[CLASSES][HIDDEN];
        for (int k = 0; k < CLASSES; k++) {
            for (int i = 0; i < HIDDEN; i++) {
                j[k][i] = w2[k * HIDDEN + i];
            }
        }
        float[] q = logits(MODEL, qm.keepOnly(Set.of("fc1"), Set.of("x")));
        assertWeights(directFisher(logits(MODEL, null), q, j), 0.5, w);
    }

    @Test
    void normalizedWeightsHaveMeanOneAndAllOnesWithoutSignal() {
        float[] w = OutputFisher.normalized(new double[] {0, 1, 3}, 1);
        assertEquals(0.5f, w[0], 1e-6);
        assertEquals(0.875f, w[1], 1e-6);
        assertEquals(1.625f, w[2], 1e-6);
        float[] none = OutputFisher.normalized(new double[3], 0);
        for (float v : none) {
            assertEquals(1f, v);
        }
    }
}
