package io.tinyptq.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyptq.api.model.Model;
import io.tinyptq.api.options.NoOptions;
import io.tinyptq.api.quant.FakeQuant;
import io.tinyptq.api.quant.QuantParams;
import io.tinyptq.api.quant.QuantScheme;
import io.tinyptq.api.quant.QuantizedModel;
import io.tinyptq.api.quant.Quantizer;
import io.tinyptq.api.spi.StepControl;
import io.tinyptq.api.spi.TrainingOps;
import io.tinyptq.api.spi.TrainingProblem;
import io.tinyptq.api.spi.TrainingSession;
import io.tinyptq.api.spi.TrainingSettings;
import io.tinyptq.api.spi.Variable;
import io.tinyptq.testkit.RoundingControl;
import io.tinyptq.testkit.SessionFixtures;
import io.tinyptq.testkit.TinyModels;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Training sessions on the CPU graph, checked against the executor and the reference backend. */
class CpuTrainingSessionTest {
    static final int N = 64;

    static QuantizedModel quantized(Model m, int wbits, int abits) {
        return SessionFixtures.quantized(m, wbits, abits);
    }

    static float[] run(Model m, QuantizedModel q, float[] x) {
        return SessionFixtures.run(m, q, x, N);
    }

    static float[] run(Model m, QuantizedModel q, float[] x, int n) {
        return SessionFixtures.run(m, q, x, n);
    }

    static double mse(float[] a, float[] b) {
        return SessionFixtures.mse(a, b);
    }

    /**
     * The session compiles every op of the IR onto the graph: on float models of every op family (residual adds,
     * pads, pools, 1-D layers, flatten, softmax, BatchNorm in inference form), its loss against shifted targets
     * equals the MSE computed from the reference backend's outputs.
     */
    @Test
    void compiledFloatModelsMatchTheReferenceForward() {
        for (Model m : java.util.List.of(
                TinyModels.convNet(2),
                TinyModels.sequenceNet(3),
                TinyModels.flattenNet(4),
                TinyModels.batchNormNet(5),
                TinyModels.batchNormSequence(6),
                TinyModels.resnet8(7))) {
            String in = m.inputs().keySet().iterator().next();
            float[] x = TinyModels.uniform(2, N, m.shape(in), -1f, 1f);
            float[] out = run(m, null, x);
            float[] target = out.clone();
            for (int i = 0; i < target.length; i++) {
                target[i] += (float) Math.sin(i) * 0.1f;
            }
            double expected = mse(out, target);
            try (TrainingSession s = new CpuBackend()
                    .train(
                            new TrainingProblem(
                                    QuantizedModel.floatOnly(m), Set.of(Variable.WEIGHTS), x, target, N, false, null),
                            new TrainingSettings(1e-3, 16, 1),
                            new CpuBackend.Options(2))) {
                assertEquals(expected, s.loss(), 1e-3 * expected, m.name());
            }
        }
    }

    @Test
    void initialLossEqualsTheReferenceForwardError() {
        Model m = TinyModels.unbalancedChain(3);
        float[] x = TinyModels.uniform(1, N, m.shape("x"), -1f, 1f);
        float[] target = run(m, null, x);
        QuantizedModel qm = quantized(m, 4, 8);
        double expected = mse(run(m, qm, x), target);
        for (Variable v : Variable.values()) {
            try (TrainingSession s = new CpuBackend()
                    .train(
                            new TrainingProblem(qm, Set.of(v), x, target, N, true, null),
                            new TrainingSettings(1e-3, 16, 1),
                            new CpuBackend.Options(1))) {
                // AdaRound starts from soft rounding at the fractional part, which is not the nearest rounding.
                if (v != Variable.ROUNDING) {
                    assertEquals(expected, s.loss(), 1e-4 * expected, v.name());
                }
            }
        }
    }

    @Test
    void everyVariableLowersTheTrainingLoss() {
        Model m = TinyModels.unbalancedChain(3);
        float[] x = TinyModels.uniform(1, N, m.shape("x"), -1f, 1f);
        float[] target = run(m, null, x);
        for (Variable v : Variable.values()) {
            QuantizedModel qm = quantized(m, 3, 8);
            double lr = v == Variable.QPARAMS ? 1e-4 : 1e-3;
            try (TrainingSession s = new CpuBackend()
                    .train(
                            new TrainingProblem(qm, Set.of(v), x, target, N, true, null),
                            new TrainingSettings(lr, 16, 1),
                            new CpuBackend.Options(1))) {
                double before = s.loss();
                s.run(200, StepControl.NONE);
                double after = s.loss();
                s.commit();
                double committed = mse(run(qm.model(), qm, x), target);
                assertTrue(after < before, v + ": " + before + " -> " + after);
                if (v != Variable.ROUNDING) {
                    assertEquals(after, committed, 1e-3 * after, v + " committed model differs from the session");
                }
            }
        }
    }

    /**
     * Biases with their own learning rate: Adam's first step moves every parameter with a gradient by its learning
     * rate exactly ({@code m/(1-b1) = g}, {@code sqrt(v/(1-b2)) = |g|}), so after one step each bias has moved by
     * the bias learning rate and each weight (AdaQuant) by the variables' one, or not at all.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(
            value = Variable.class,
            names = {"WEIGHTS", "ROUNDING"})
    void biasesStepWithTheirOwnLearningRate(Variable variable) {
        Model m = TinyModels.unbalancedChain(3);
        float[] x = TinyModels.uniform(1, N, m.shape("x"), -1f, 1f);
        float[] target = run(m, null, x);
        QuantizedModel qm = quantized(m, 3, 8);
        Set<Variable> variables =
                variable == Variable.WEIGHTS ? Set.of(Variable.WEIGHTS) : Set.of(Variable.ROUNDING, Variable.BIASES);
        double lr = 1e-3;
        double biasLr = 0.05;
        try (TrainingSession s = new CpuBackend()
                .train(
                        new TrainingProblem(qm, variables, x, target, N, true, null),
                        new TrainingSettings(lr, 16, 1, 0, Set.of(), biasLr),
                        new CpuBackend.Options(1))) {
            s.run(1, StepControl.NONE);
            s.commit();
        }
        int movedBiases = 0;
        for (io.tinyptq.api.model.Op.Layer l : m.layers()) {
            float[] before = m.constant(l.bias()).data();
            float[] after = qm.model().constant(l.bias()).data();
            for (int i = 0; i < before.length; i++) {
                double step = Math.abs(after[i] - before[i]);
                assertTrue(step == 0 || Math.abs(step - biasLr) < 1e-4, l.name() + " bias " + i + " moved " + step);
                movedBiases += step > 0 ? 1 : 0;
            }
            if (variable == Variable.WEIGHTS) {
                float[] w0 = m.constant(l.weight()).data();
                float[] w1 = qm.model().constant(l.weight()).data();
                for (int i = 0; i < w0.length; i++) {
                    double step = Math.abs(w1[i] - w0[i]);
                    assertTrue(step == 0 || Math.abs(step - lr) < 1e-5, l.name() + " weight " + i + " moved " + step);
                }
            }
        }
        assertTrue(movedBiases > 0, "no bias moved");
    }

    /**
     * The step-size gradient is the problem's named operation: LSQ's is the default, {@code unscaled} reaches the
     * graph (the trained steps come out otherwise; the gradients of both forms are checked against finite differences
     * in {@code GraphTest}), and an unknown name fails listing the known ones.
     */
    @Test
    void theStepSizeGradientIsTheProblemsNamedOperation() {
        Model m = TinyModels.unbalancedChain(3);
        float[] x = TinyModels.uniform(1, N, m.shape("x"), -1f, 1f);
        float[] target = run(m, null, x);
        TrainingProblem problem =
                new TrainingProblem(quantized(m, 3, 3), Set.of(Variable.QPARAMS), x, target, N, true, null);
        assertEquals(TrainingOps.LSQ_STEP, problem.stepGradient());
        List<Float> byDefault = trainedSteps(m, x, target, null);
        assertEquals(byDefault, trainedSteps(m, x, target, TrainingOps.LSQ_STEP));
        List<Float> unscaled = trainedSteps(m, x, target, TrainingOps.UNSCALED_STEP);
        assertTrue(!byDefault.equals(unscaled), "unscaled trained the same steps as lsq");
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> problem.withStepGradient("lsq_plus"));
        assertEquals("unknown step-size gradient 'lsq_plus'; known: [lsq, unscaled]", e.getMessage());
    }

    /** Every weight and activation step after 50 LSQ steps on a fresh 3-bit model, with the step gradient given. */
    private static List<Float> trainedSteps(Model m, float[] x, float[] target, String stepGradient) {
        QuantizedModel qm = quantized(m, 3, 3);
        TrainingProblem p = new TrainingProblem(qm, Set.of(Variable.QPARAMS), x, target, N, true, null);
        try (TrainingSession s = new CpuBackend()
                .train(
                        stepGradient == null ? p : p.withStepGradient(stepGradient),
                        new TrainingSettings(1e-2, 16, 1),
                        new CpuBackend.Options(1))) {
            s.run(50, StepControl.NONE);
            s.commit();
        }
        List<Float> steps = new java.util.ArrayList<>();
        for (var quantizers : List.of(qm.weightQuantizers(), qm.activationQuantizers())) {
            new java.util.TreeMap<>(quantizers).values().forEach(q -> {
                for (float v : q.params().scale()) {
                    steps.add(v);
                }
            });
        }
        return steps;
    }

    /**
     * LSQ at a learning rate far above the smallest scales: Adam's steps (about lr each) would push small scales
     * through zero, which would fail when the scales are committed; the floor keeps every scale at least 1 % of
     * its initial value, and the committed model still computes the session's loss.
     */
    @Test
    void lsqKeepsEveryScalePositiveAtALargeLearningRate() {
        Model m = TinyModels.unbalancedChain(3);
        float[] x = TinyModels.uniform(1, N, m.shape("x"), -1f, 1f);
        float[] target = run(m, null, x);
        QuantizedModel qm = quantized(m, 3, 3);
        java.util.Map<String, float[]> initial = new java.util.HashMap<>();
        qm.weightQuantizers()
                .forEach((k, q) -> initial.put("w:" + k, q.params().scale().clone()));
        qm.activationQuantizers()
                .forEach((k, q) -> initial.put("a:" + k, q.params().scale().clone()));
        try (TrainingSession s = new CpuBackend()
                .train(
                        new TrainingProblem(qm, Set.of(Variable.QPARAMS), x, target, N, true, null),
                        new TrainingSettings(1.0, 16, 1),
                        new CpuBackend.Options(1))) {
            s.run(100, StepControl.NONE);
            double after = s.loss();
            s.commit();
            assertEquals(after, mse(run(qm.model(), qm, x), target), 1e-3 * after);
        }
        java.util.Map<String, float[]> trained = new java.util.HashMap<>();
        qm.weightQuantizers().forEach((k, q) -> trained.put("w:" + k, q.params().scale()));
        qm.activationQuantizers()
                .forEach((k, q) -> trained.put("a:" + k, q.params().scale()));
        initial.forEach((k, v) -> {
            for (int i = 0; i < v.length; i++) {
                float t = trained.get(k)[i];
                assertTrue(
                        t >= 0.01f * v[i] * (1 - 1e-6f) && Float.isFinite(t),
                        k + "[" + i + "] = " + t + " from " + v[i]);
            }
        });
    }

    @Test
    void trainsAFloatClassifierFromScratchThroughTheSpi() {
        // Three Gaussian blobs in 8 dimensions; the label is the blob.
        int n = 600;
        java.util.SplittableRandom r = new java.util.SplittableRandom(5);
        float[] x = new float[n * 8];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = i % 3;
            for (int d = 0; d < 8; d++) {
                double centre = d % 3 == y[i] ? 2.0 : -1.0;
                x[i * 8 + d] = (float) (centre + 0.8 * (r.nextDouble() * 2 - 1));
            }
        }
        Model m = TinyModels.mlp(9, 8, 16, 3);
        QuantizedModel fp = QuantizedModel.floatOnly(m);
        try (TrainingSession s = new CpuBackend()
                .train(
                        TrainingProblem.classification(fp, Set.of(Variable.WEIGHTS), x, y, false),
                        new TrainingSettings(1e-2, 32, 3),
                        new CpuBackend.Options(2))) {
            double before = s.loss();
            s.run(300, StepControl.NONE);
            double after = s.loss();
            s.commit();
            assertTrue(after < 0.2 * before, before + " -> " + after);
        }
        float[] logits = run(fp.model(), null, java.util.Arrays.copyOf(x, N * 8));
        int correct = 0;
        for (int i = 0; i < N; i++) {
            int best = 0;
            for (int c = 1; c < 3; c++) {
                if (logits[i * 3 + c] > logits[i * 3 + best]) {
                    best = c;
                }
            }
            correct += best == y[i] ? 1 : 0;
        }
        assertTrue(correct >= 0.95 * N, correct + "/" + N + " correct");
    }

    @Test
    void adaRoundsAnnealedRegularizerDrivesTheSoftRoundingToHardDecisions() {
        Model m = TinyModels.unbalancedChain(3);
        float[] x = TinyModels.uniform(1, N, m.shape("x"), -1f, 1f);
        float[] target = run(m, null, x);
        double[] warmOnly = softAndHard(m, x, target, false);
        double[] annealed = softAndHard(m, x, target, true);
        double gapWarm = Math.abs(warmOnly[1] - warmOnly[0]);
        double gapAnnealed = Math.abs(annealed[1] - annealed[0]);
        // With h(V) near 0 or 1 the soft and the hardened model compute nearly the same function. λ = 1 instead of
        // the papers' 0.01 makes the effect visible within the 1,000 steps a unit test affords.
        assertTrue(
                gapAnnealed < 0.5 * gapWarm,
                "soft/hard gap " + gapWarm + " without, " + gapAnnealed + " with the regularizer");
        assertTrue(gapAnnealed < 0.1 * annealed[0], "soft " + annealed[0] + " vs hard " + annealed[1]);
    }

    @Test
    void hardLossIsTheLossOfTheCommittedRoundingAndLeavesTheSessionSoft() {
        Model m = TinyModels.unbalancedChain(3);
        float[] x = TinyModels.uniform(1, N, m.shape("x"), -1f, 1f);
        float[] target = run(m, null, x);
        QuantizedModel qm = quantized(m, 3, 8);
        try (TrainingSession s = roundingSession(qm, x, target)) {
            s.run(200, StepControl.NONE);
            double soft = s.loss();
            double hard = hardLoss(s);
            assertEquals(soft, s.loss(), 0, "hardLoss changed the soft model");
            assertTrue(Math.abs(hard - soft) > 1e-3 * soft, "no soft/hard gap without the regularizer: " + soft);
            s.commit();
            // Independent: the committed on-grid weights through the plain quantized forward pass.
            assertEquals(mse(run(qm.model(), qm, x), target), hard, 1e-5 * hard);
        }
    }

    /**
     * The straight-through sign rounding starts at rounding to nearest (its hard and soft forms are one), training
     * through its straight-through gradient lowers the loss, and commit keeps exactly the rounding the session
     * evaluated, on the quantizer's grid.
     */
    @Test
    void straightThroughSignRoundingStartsAtNearestAndCommitsWhatItEvaluates() {
        Model m = TinyModels.unbalancedChain(3);
        float[] x = TinyModels.uniform(1, N, m.shape("x"), -1f, 1f);
        float[] target = run(m, null, x);
        QuantizedModel qm = quantized(m, 3, 8);
        // Independent: round to nearest through the reference backend's quantized forward pass.
        double nearest = mse(run(m, qm, x), target);
        try (TrainingSession s = new CpuBackend()
                .train(
                        new TrainingProblem(qm, Set.of(Variable.ROUNDING), x, target, N, true, null)
                                .withRounding(TrainingOps.STRAIGHT_THROUGH_SIGN),
                        new TrainingSettings(1e-3, 16, 1),
                        new CpuBackend.Options(1))) {
            double start = s.loss();
            assertEquals(nearest, start, 1e-5 * nearest);
            assertEquals(start, hardLoss(s), 0, "the sign is its own hard form");
            s.run(300);
            double trained = s.loss();
            assertTrue(trained < start, "loss " + start + " -> " + trained);
            s.commit();
            assertEquals(trained, mse(run(qm.model(), qm, x), target), 1e-5 * trained);
            for (Quantizer q : qm.weightQuantizers().values()) {
                String w = ((io.tinyptq.api.model.Op.Layer) qm.model().op(q.target())).weight();
                float[] data = qm.model().constant(w).data();
                float[] again = new float[data.length];
                FakeQuant.apply(data, qm.model().constant(w).shape().dims(), q.spec(), q.params(), again);
                assertArrayEquals(data, again, 0f, "committed weights of " + q.target() + " off the grid");
            }
        }
    }

    /**
     * A plugin's own regularizer: {@link StepControl#afterBackward} sees the step's gradient of every rounding
     * variable and what it adds moves the variables (a strong pull of V towards -1 rounds almost every weight down),
     * and the session's variables are read, written and reported by name.
     */
    @Test
    void aControlsRegularizerGradientMovesTheRoundingVariables() {
        Model m = TinyModels.unbalancedChain(3);
        float[] x = TinyModels.uniform(1, N, m.shape("x"), -1f, 1f);
        float[] target = run(m, null, x);
        QuantizedModel qm = quantized(m, 3, 8);
        try (TrainingSession s = new CpuBackend()
                .train(
                        new TrainingProblem(qm, Set.of(Variable.ROUNDING), x, target, N, true, null)
                                .withRounding(TrainingOps.STRAIGHT_THROUGH_SIGN),
                        new TrainingSettings(1e-2, 16, 1),
                        new CpuBackend.Options(1))) {
            java.util.Set<String> names = new java.util.TreeSet<>();
            for (var l : m.layers()) {
                names.add(TrainingOps.roundingVariable(l.name()));
            }
            assertEquals(names, s.variables());
            String first = names.iterator().next();
            float[] v = s.read(first);
            int[] seen = {0};
            s.run(200, new StepControl() {
                @Override
                public boolean regularizes() {
                    return true;
                }

                @Override
                public void afterBackward(int step, Variables variables) {
                    for (String name : names) {
                        float[] value = variables.values(name);
                        float[] grad = variables.gradient(name);
                        for (int i = 0; i < value.length; i++) {
                            grad[i] += 10f * (value[i] + 1f); // d/dV of 5 (V + 1)^2
                        }
                    }
                    seen[0]++;
                }
            });
            assertEquals(200, seen[0]);
            float[] after = s.read(first);
            int down = 0;
            for (float f : after) {
                down += f < 0 ? 1 : 0;
            }
            assertTrue(down > 0.9 * after.length, down + " of " + after.length + " round down");
            s.write(first, v);
            assertArrayEquals(v, s.read(first), 0f);
            assertThrows(IllegalArgumentException.class, () -> s.read("rounding/none"));
            assertThrows(IllegalArgumentException.class, () -> s.hyperparameter("rounding.gamma", 1));
        }
    }

    static double hardLoss(TrainingSession s) {
        return SessionFixtures.hardLoss(s);
    }

    /** An AdaRound session on {@code qm} with quantized activations, Adam at 1e-2, batches of 16, one thread. */
    static TrainingSession roundingSession(QuantizedModel qm, float[] x, float[] target) {
        return new CpuBackend()
                .train(
                        new TrainingProblem(qm, Set.of(Variable.ROUNDING), x, target, N, true, null),
                        new TrainingSettings(1e-2, 16, 1),
                        new CpuBackend.Options(1));
    }

    /** Soft loss at the end and the hardened model's loss, after a warm-up and optionally the annealed regularizer. */
    static double[] softAndHard(Model m, float[] x, float[] target, boolean regularize) {
        QuantizedModel qm = quantized(m, 3, 8);
        try (TrainingSession s = roundingSession(qm, x, target)) {
            s.run(100, StepControl.NONE);
            s.run(900, regularize ? RoundingControl.of(1.0, 20, 2) : StepControl.NONE);
            double soft = s.loss();
            s.commit();
            return new double[] {soft, mse(run(qm.model(), qm, x), target)};
        }
    }

    @Test
    void activationScalesTrainAlongsideTheRoundingAndLowerTheLoss() {
        Model m = TinyModels.unbalancedChain(3);
        float[] x = TinyModels.uniform(1, N, m.shape("x"), -1f, 1f);
        float[] target = run(m, null, x);
        // 3-bit activations on the range [-1.5, 3] that quantized() gives every tensor: too wide for most of them.
        QuantizedModel fixed = quantized(m, 4, 3);
        QuantizedModel learned = quantized(m, 4, 3);
        Set<String> tensors = learned.activationQuantizers().keySet();
        float scale = learned.activationQuantizers().get("a2").params().scale(0);
        float zero = learned.activationQuantizers().get("a2").params().zeroPoint(0);
        double[] without = roundWithActivationScales(fixed, x, target, 0, Set.of());
        double[] with = roundWithActivationScales(learned, x, target, 1e-2, tensors);
        assertEquals(without[0], with[0], 1e-6 * without[0], "both sessions start from the same model");
        assertTrue(
                with[1] < 0.9 * without[1],
                "loss after 300 steps: " + without[1] + " with fixed, " + with[1] + " with trained activation scales");
        // The committed quantizers carry the trained scales; zero points are not trained.
        float trained = learned.activationQuantizers().get("a2").params().scale(0);
        assertTrue(Math.abs(trained - scale) > 1e-3 * scale, "a2's scale stayed at " + scale);
        assertEquals(zero, learned.activationQuantizers().get("a2").params().zeroPoint(0));
        assertEquals(scale, fixed.activationQuantizers().get("a2").params().scale(0));
        // Only the listed tensors train.
        QuantizedModel one = quantized(m, 4, 3);
        roundWithActivationScales(one, x, target, 1e-2, Set.of("a4"));
        assertEquals(scale, one.activationQuantizers().get("a2").params().scale(0));
        assertTrue(one.activationQuantizers().get("a4").params().scale(0) != scale, "a4 did not train");
    }

    /** Loss before and after 300 AdaRound steps (no regularizer), activation scales training at {@code lr}. */
    static double[] roundWithActivationScales(
            QuantizedModel qm, float[] x, float[] target, double lr, Set<String> scales) {
        try (TrainingSession s = new CpuBackend()
                .train(
                        new TrainingProblem(qm, Set.of(Variable.ROUNDING), x, target, N, true, null),
                        new TrainingSettings(1e-3, 16, 1, lr, scales),
                        new CpuBackend.Options(1))) {
            double before = s.loss();
            s.run(300, StepControl.NONE);
            double after = s.loss();
            s.commit();
            return new double[] {before, after};
        }
    }

    /**
     * The KL objective's per-sample gradients at the model input and at the hidden tensor equal central differences of
     * that sample's divergence (the session's loss is the mean over samples, so a sample's own divergence moves N
     * times the mean); the hidden tensor is checked through the model's tail, whose input it is.
     */
    @Test
    void klGradientsAtInnerTensorsMatchFiniteDifferences() {
        Model m = TinyModels.mlp(3, 6, 8, 4);
        int n = 5;
        float[] x = TinyModels.uniform(4, n, m.shape("x"), -1f, 1f);
        float[] target = TinyModels.uniform(5, n, m.shape("logits"), -2f, 2f);
        QuantizedModel fp = QuantizedModel.floatOnly(m);
        try (TrainingSession s = new CpuBackend()
                .train(
                        TrainingProblem.divergence(fp, Set.of(Variable.BIASES), x, target, n, false),
                        new TrainingSettings(1e-3, n, 0),
                        new CpuBackend.Options(1))) {
            float[] gx = s.gradients("x");
            float[] gh = s.gradients("h");
            assertEquals(n * 6, gx.length);
            assertEquals(n * 8, gh.length);
            for (int i = 0; i < gx.length; i += 7) {
                float keep = x[i];
                double eps = 1e-3;
                x[i] = (float) (keep + eps);
                double plus = s.loss();
                x[i] = (float) (keep - eps);
                double minus = s.loss();
                x[i] = keep;
                double numeric = n * (plus - minus) / (2 * eps);
                assertEquals(numeric, gx[i], 2e-3 * Math.abs(numeric) + 2e-4, "d KL / d x[" + i + "]");
            }
            // The tail fc2 on the hidden activations: its input gradient is the full model's gradient at h.
            float[] h = new float[n * 8];
            try (var e = new io.tinyptq.testkit.ReferenceBackend().compile(m, null, n, NoOptions.INSTANCE)) {
                e.forward(x, n, (t, values, off, len) -> {
                    if (t.equals("h")) {
                        System.arraycopy(values, off, h, 0, len);
                    }
                });
            }
            Model tail = io.tinyptq.api.model.Units.slice(
                    m, new io.tinyptq.api.model.Unit("tail", "layer", "h", "logits", List.of(m.op("fc2"))));
            try (TrainingSession t = new CpuBackend()
                    .train(
                            TrainingProblem.divergence(
                                    QuantizedModel.floatOnly(tail), Set.of(Variable.BIASES), h, target, n, false),
                            new TrainingSettings(1e-3, n, 0),
                            new CpuBackend.Options(1))) {
                float[] gTail = t.gradients("h");
                for (int i = 0; i < gh.length; i++) {
                    assertEquals(gTail[i], gh[i], 1e-6f + 1e-5f * Math.abs(gTail[i]), "d KL / d h[" + i + "]");
                }
                for (int i = 0; i < gh.length; i += 5) {
                    float keep = h[i];
                    double eps = 1e-3;
                    h[i] = (float) (keep + eps);
                    double plus = t.loss();
                    h[i] = (float) (keep - eps);
                    double minus = t.loss();
                    h[i] = keep;
                    double numeric = n * (plus - minus) / (2 * eps);
                    assertEquals(
                            numeric, gh[i], 2e-3 * Math.abs(numeric) + 2e-4, "d KL / d h[" + i + "] (differences)");
                }
            }
        }
    }

    /** The KL objective's value is the direct formula on the reference backend's logits. */
    @Test
    void klDivergenceIsTheDirectFormula() {
        Model m = TinyModels.mlp(3, 6, 8, 4);
        int n = 7;
        float[] x = TinyModels.uniform(4, n, m.shape("x"), -1f, 1f);
        float[] target = TinyModels.uniform(5, n, m.shape("logits"), -2f, 2f);
        float[] logits = run(m, null, x, n);
        double kl = 0;
        for (int r = 0; r < n; r++) {
            double[] p = softmax(target, r * 4, 4);
            double[] q = softmax(logits, r * 4, 4);
            for (int j = 0; j < 4; j++) {
                kl += p[j] * Math.log(p[j] / q[j]);
            }
        }
        try (TrainingSession s = new CpuBackend()
                .train(
                        TrainingProblem.divergence(
                                QuantizedModel.floatOnly(m), Set.of(Variable.BIASES), x, target, n, false),
                        new TrainingSettings(1e-3, 4, 0),
                        new CpuBackend.Options(1))) {
            assertEquals(kl / n, s.loss(), 1e-6);
        }
    }

    private static double[] softmax(float[] z, int off, int len) {
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < len; j++) {
            max = Math.max(max, z[off + j]);
        }
        double[] p = new double[len];
        double sum = 0;
        for (int j = 0; j < len; j++) {
            p[j] = Math.exp(z[off + j] - max);
            sum += p[j];
        }
        for (int j = 0; j < len; j++) {
            p[j] /= sum;
        }
        return p;
    }

    /** With Fisher weights the session's loss is {@code mean(w (y - t)^2)}, computed here from reference outputs. */
    @Test
    void fisherWeightedLossIsTheWeightedMean() {
        Model m = TinyModels.unbalancedChain(3);
        float[] x = TinyModels.uniform(1, N, m.shape("x"), -1f, 1f);
        float[] target = TinyModels.uniform(2, N, m.shape(m.outputs().get(0)), -1f, 1f);
        float[] w = TinyModels.uniform(3, N, m.shape(m.outputs().get(0)), 1f, 3f);
        QuantizedModel qm = quantized(m, 4, 8);
        float[] y = run(m, qm, x);
        double expected = 0;
        for (int i = 0; i < y.length; i++) {
            expected += w[i] * (y[i] - target[i]) * (double) (y[i] - target[i]);
        }
        expected /= y.length;
        try (TrainingSession s = new CpuBackend()
                .train(
                        new TrainingProblem(qm, Set.of(Variable.WEIGHTS), x, target, N, true, w),
                        new TrainingSettings(1e-3, 16, 1),
                        new CpuBackend.Options(1))) {
            assertEquals(expected, s.loss(), 1e-4 * expected);
            double before = s.loss();
            s.run(100, StepControl.NONE);
            assertTrue(s.loss() < before, "the weighted loss falls");
        }
    }

    @Test
    void qdropFeedsMostlyFullPrecisionInputsWhileTrainingAndQuantizedOnesWhenEvaluating() {
        Model m = TinyModels.unbalancedChain(3);
        float[] x = TinyModels.uniform(1, N, m.shape("x"), -1f, 1f);
        float[] target = run(m, null, x);
        double[] quantized = qdropLosses(m, x, target, null, 1);
        double[] keepAll = qdropLosses(m, x, target, x, 1);
        double[] dropMost = qdropLosses(m, x, target, x, 0.05);
        // loss() always evaluates quantized inputs; with probability 1 training is exactly the plain session's.
        assertEquals(quantized[0], dropMost[0], 1e-12);
        assertArrayEquals(quantized, keepAll, 1e-12);
        // The first training step: same weights (8 bits), but inputs 95 % full precision instead of 2-bit quantized.
        assertTrue(
                dropMost[1] < 0.8 * quantized[1],
                "first step loss " + quantized[1] + " quantized, " + dropMost[1]
                        + " with 95 % of the inputs dropped to full precision");
    }

    /** loss() before training, the first step's training loss, loss() after 50 more steps. */
    static double[] qdropLosses(Model m, float[] x, float[] target, float[] fp, double p) {
        QuantizedModel qm = quantized(m, 8, 8);
        // Only the model input is quantized, to 2 bits: its error dominates the loss.
        Quantizer x8 = qm.activationQuantizers().get("x");
        Quantizer in = new Quantizer(
                "x",
                new io.tinyptq.api.quant.QuantizerSpec(
                        2, x8.spec().symmetry(), x8.spec().granularity(), -1));
        in.setParams(new QuantParams(new float[] {1f}, new float[] {1f}));
        QuantizedModel two =
                QuantizedModel.of(m, QuantScheme.of(8, 8), qm.weightQuantizers(), java.util.Map.of("x", in));
        TrainingProblem problem = new TrainingProblem(two, Set.of(Variable.WEIGHTS), x, target, N, true, null);
        if (fp != null) {
            problem = problem.withQDrop(fp, p);
        }
        try (TrainingSession s =
                new CpuBackend().train(problem, new TrainingSettings(1e-4, 16, 1), new CpuBackend.Options(1))) {
            double before = s.loss();
            double first = s.run(1, StepControl.NONE);
            s.run(50, StepControl.NONE);
            return new double[] {before, first, s.loss()};
        }
    }
}
