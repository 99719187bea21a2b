package io.tinyptq.plugins.optimize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyptq.api.model.Model;
import io.tinyptq.api.quant.QuantizedModel;
import io.tinyptq.api.spi.StepControl;
import io.tinyptq.api.spi.TrainingProblem;
import io.tinyptq.api.spi.TrainingSession;
import io.tinyptq.api.spi.TrainingSettings;
import io.tinyptq.api.spi.Variable;
import io.tinyptq.backend.cpu.CpuBackend;
import io.tinyptq.testkit.SessionFixtures;
import io.tinyptq.testkit.TinyModels;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The exact refinement of a unit's hardened rounding, run on the cpu backend's sessions through the session's
 * variables and activations alone, checked against the reference backend's quantized forward pass.
 */
class RoundingRefinementTest {
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

    @Test
    void refinedRoundingIsALocalOptimumOfTheCommittedModelAndNeverWorse() {
        Model m = TinyModels.mlp(5, 6, 12, 4);
        float[] x = TinyModels.uniform(2, N, m.shape("x"), -1f, 1f);
        float[] target = run(m, null, x);
        QuantizedModel qm = quantized(m, 3, 8);
        double refined = trainRefineAndCommit(qm, x, target, 200);
        assertCommittedRoundingIsALocalOptimum(m, qm, "fc2", x, target, refined);
    }

    /**
     * Trains an AdaRound session for {@code steps} without the regularizer, refines its hardened rounding (asserting
     * that some flip is kept and the hard loss falls), commits, and returns the refined hard loss.
     */
    static double trainRefineAndCommit(QuantizedModel qm, float[] x, float[] target, int steps) {
        try (TrainingSession s = roundingSession(qm, x, target)) {
            s.run(steps, StepControl.NONE);
            double hard = hardLoss(s);
            var flips = RoundingRefinement.refine(s, qm, target, N, 100);
            double refined = hardLoss(s);
            assertTrue(flips.isPresent() && flips.getAsInt() > 0, "flips: " + flips);
            assertTrue(refined < hard, "hard loss " + hard + " -> " + refined + " after refining");
            s.commit();
            return refined;
        }
    }

    /**
     * Independent: the committed model through the plain quantized forward pass has the refined loss, and moving any
     * one of {@code layer}'s weights to its other rounding ({@code floor(W/s)} or {@code floor(W/s) + 1}) does not
     * lower it. The weight's channels are on its first axis.
     */
    static void assertCommittedRoundingIsALocalOptimum(
            Model fpModel, QuantizedModel qm, String layer, float[] x, float[] target, double refined) {
        Model committed = qm.model();
        assertEquals(mse(run(committed, qm, x), target), refined, 1e-5 * refined);
        String weight = ((io.tinyptq.api.model.Op.Layer) fpModel.op(layer)).weight();
        float[] fp = fpModel.constant(weight).data();
        float[] kept = committed.constant(weight).data();
        float[] scale = qm.weightQuantizers().get(layer).params().scale();
        var grid = qm.weightQuantizers().get(layer).spec().grid();
        int in = fpModel.constant(weight).shape().sizeExcept(0);
        for (int i = 0; i < kept.length; i++) {
            float s = scale[i / in];
            float floor = (float) Math.floor(fp[i] / s);
            float other = Math.round(kept[i] / s) == floor ? floor + 1 : floor;
            float[] w = kept.clone();
            w[i] = s * Math.min(Math.max(other, grid.n()), grid.p());
            Model flipped = committed.toBuilder()
                    .constant(
                            weight,
                            new io.tinyptq.api.model.Tensor(
                                    committed.constant(weight).shape(), w))
                    .build();
            assertTrue(
                    mse(run(flipped, qm, x), target) >= refined * (1 - 1e-5),
                    "flipping " + layer + " weight " + i + " lowers the loss below " + refined);
        }
    }

    /**
     * Fully-connected layers with an activation ending a unit (so the loss is not quadratic in the weights): one
     * reading the unit's input, and one after a rounded convolution, reading its hardened output.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"dense", "chain"})
    void refinedActivatedRoundingIsALocalOptimumOfTheCommittedModel(String kind) {
        var r = new java.util.SplittableRandom(11);
        boolean chain = kind.equals("chain");
        var b = Model.builder("unit")
                .input("image", chain ? io.tinyptq.api.model.Shape.of(9, 10, 3) : io.tinyptq.api.model.Shape.of(9));
        String in = "image";
        if (chain) {
            b.constant("c0.w", TinyModels.gaussian(r, 0.4, 4, 3, 3, 3))
                    .constant("c0.b", TinyModels.gaussian(r, 0.1, 4))
                    .op(new io.tinyptq.api.model.Op.Conv2D(
                            "c0",
                            "image",
                            "c0.w",
                            "c0.b",
                            "h",
                            1,
                            1,
                            io.tinyptq.api.model.Padding.SAME,
                            io.tinyptq.api.model.Activation.RELU));
            in = "h";
        }
        if (chain) {
            b.op(new io.tinyptq.api.model.Op.Reshape("flat", "h", "hf", io.tinyptq.api.model.Shape.of(9 * 10 * 4)));
            in = "hf";
        }
        int fanIn = chain ? 9 * 10 * 4 : 9;
        b.constant("c1.w", TinyModels.gaussian(r, chain ? 0.1 : 0.4, 6, fanIn))
                .constant("c1.b", TinyModels.gaussian(r, 0.1, 6))
                .op(new io.tinyptq.api.model.Op.FullyConnected(
                        "c1", in, "c1.w", "c1.b", "out", io.tinyptq.api.model.Activation.RELU));
        Model m = b.output("out").build();
        float[] x = TinyModels.uniform(3, N, m.shape("image"), -1f, 1f);
        float[] target = run(m, null, x);
        QuantizedModel qm = quantized(m, 3, 8);
        double refined = trainRefineAndCommit(qm, x, target, 100);
        assertCommittedRoundingIsALocalOptimum(m, qm, "c1", x, target, refined);
    }

    @Test
    void refiningLeavesAUnitThatDoesNotEndInAFullyConnectedLayer() {
        // The conv net ends in a softmax after its classifier.
        Model m = TinyModels.convNet(4);
        float[] x = TinyModels.uniform(1, N, m.shape("image"), -1f, 1f);
        float[] target = run(m, null, x);
        QuantizedModel qm = quantized(m, 3, 8);
        try (TrainingSession s = roundingSession(qm, x, target)) {
            s.run(20, StepControl.NONE);
            double hard = hardLoss(s);
            assertTrue(RoundingRefinement.refine(s, qm, target, N, 100).isEmpty());
            assertEquals(hard, hardLoss(s), 0);
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
}
