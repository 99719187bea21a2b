package io.tinyptq.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyptq.api.model.BatchNormFolding;
import io.tinyptq.api.model.Model;
import io.tinyptq.api.model.Op;
import io.tinyptq.api.options.NoOptions;
import io.tinyptq.api.quant.QuantizedModel;
import io.tinyptq.api.spi.ModelExecutor;
import io.tinyptq.api.spi.StepControl;
import io.tinyptq.api.spi.TrainingProblem;
import io.tinyptq.api.spi.TrainingSession;
import io.tinyptq.api.spi.TrainingSettings;
import io.tinyptq.api.spi.Variable;
import io.tinyptq.testkit.ReferenceBackend;
import io.tinyptq.testkit.TinyModels;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** BatchNorm models: executor vs the reference formula, folding vs the unfolded model, training with statistics. */
class BatchNormModelTest {

    private static float[] forward(ModelExecutor e, float[] in, int n) {
        return e.forward(in, n, ModelExecutor.ActivationListener.NONE);
    }

    private static void assertClose(float[] want, float[] got, double tol, String what) {
        assertEquals(want.length, got.length, what);
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got[i], tol * Math.max(1, Math.abs(want[i])), what + "[" + i + "]");
        }
    }

    @Test
    void foldedModelsComputeWhatTheUnfoldedOnesDo() {
        for (Model m : List.of(TinyModels.batchNormNet(1), TinyModels.batchNormSequence(2))) {
            String input = m.inputs().keySet().iterator().next();
            float[] in = TinyModels.uniform(5, 6, m.shape(input), -2f, 2f);
            Model folded = BatchNormFolding.fold(m);
            try (var ref = new ReferenceBackend().compile(m, null, 6, NoOptions.INSTANCE);
                    var cpu = new CpuBackend().compile(m, null, 6, new CpuBackend.Options(2));
                    var cpuFolded = new CpuBackend().compile(folded, null, 6, new CpuBackend.Options(2))) {
                float[] want = forward(ref, in, 6);
                assertClose(want, forward(cpu, in, 6), 1e-5, m.name() + " unfolded");
                assertClose(want, forward(cpuFolded, in, 6), 1e-5, m.name() + " folded");
            }
        }
    }

    @Test
    void foldingRemovesEveryFoldableBatchNormAndNamesTheRest() {
        Model m = TinyModels.batchNormNet(1);
        Model folded = BatchNormFolding.fold(m);
        List<String> left = folded.ops().stream()
                .filter(op -> op instanceof Op.BatchNorm)
                .map(Op::name)
                .toList();
        assertEquals(List.of("bn3"), left);
        assertEquals(Set.of("bn3"), BatchNormFolding.unfoldable(folded).keySet());
        // The conv had no bias: folding gives it one (k (0 - mean) + beta); BN constants that folded are gone.
        Op.Conv2D conv = (Op.Conv2D) folded.op("conv");
        assertEquals("conv/bias", conv.bias());
        assertEquals("h1", conv.output());
        assertEquals(io.tinyptq.api.model.Activation.RELU, conv.activation());
        assertFalse(folded.constants().containsKey("bn1.gamma"));
        assertTrue(folded.constants().containsKey("bn3.gamma"));
        // Direct formula for one folded weight and bias: W' = W g / sqrt(v + eps), b' = (b - m) g / sqrt(v + eps) +
        // beta.
        int c = 2;
        double k = m.constant("bn2.gamma").data()[c]
                / Math.sqrt(m.constant("bn2.variance").data()[c] + 1e-3);
        // Depthwise weight [3,3,4]: channel is the last axis.
        assertEquals(
                m.constant("dw.w").data()[4 + c] * k, folded.constant("dw.w").data()[4 + c], 1e-6);
        assertEquals(
                (m.constant("dw.b").data()[c] - m.constant("bn2.mean").data()[c]) * k
                        + m.constant("bn2.beta").data()[c],
                folded.constant("dw.b").data()[c],
                1e-6);
        assertTrue(BatchNormFolding.fold(folded) == folded, "nothing left to fold returns the same model");
    }

    @Test
    void trainingUsesBatchStatisticsAndCommitsTheRunningOnes() {
        Model m = TinyModels.batchNormSequence(3);
        int n = 96;
        float[] x = TinyModels.uniform(9, n, m.shape("signal"), -1f, 3f);
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            // A learnable rule: the sign of the first channel's mean decides the class.
            double s = 0;
            for (int t = 0; t < 16; t++) {
                s += x[i * 48 + t * 3];
            }
            y[i] = s / 16 > 1 ? 1 : s / 16 > 0.5 ? 2 : 0;
        }
        QuantizedModel qm = QuantizedModel.floatOnly(m);
        float[] before = m.constant("bn.mean").data().clone();
        double first;
        double last;
        try (TrainingSession s = new CpuBackend()
                .train(
                        TrainingProblem.classification(qm, Set.of(Variable.WEIGHTS), x, y, false),
                        new TrainingSettings(0.01, 16, 1),
                        new CpuBackend.Options(1))) {
            first = s.loss();
            s.run(300, StepControl.NONE);
            last = s.loss();
            // With the weights (nearly) still, the running statistics settle on the data's: 0.99^600 < 0.3 %.
            s.learningRate(1e-12);
            s.run(600, StepControl.NONE);
            s.commit();
        }
        assertTrue(last < first * 0.7, "loss " + first + " -> " + last);
        Model trained = qm.model();
        assertNotEquals(before[0], trained.constant("bn.mean").data()[0]);
        // The running mean tracks the conv output's mean over the data (inputs centered at 1, so far from the
        // random initial statistics): compare with the mean computed directly with the trained weights.
        Map<String, float[]> acts = new java.util.HashMap<>();
        try (var ref = new ReferenceBackend().compile(trained, null, n, NoOptions.INSTANCE)) {
            ref.forward(x, n, (t, v, o, len) -> acts.put(t, java.util.Arrays.copyOfRange(v, o, o + len)));
        }
        float[] c = acts.get("c");
        for (int ch = 0; ch < 6; ch++) {
            double mean = 0;
            for (int i = ch; i < c.length; i += 6) {
                mean += c[i];
            }
            mean /= c.length / 6.0;
            double var = 0;
            for (int i = ch; i < c.length; i += 6) {
                var += (c[i] - mean) * (c[i] - mean);
            }
            var /= c.length / 6.0;
            assertEquals(mean, trained.constant("bn.mean").data()[ch], 0.02 + 0.02 * Math.abs(mean), "mean " + ch);
            // Batch variances (16 windows) average a little under the whole data's.
            assertEquals(var, trained.constant("bn.variance").data()[ch], 0.15 * var, "variance " + ch);
        }
    }
}
