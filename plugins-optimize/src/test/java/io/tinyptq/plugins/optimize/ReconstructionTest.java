package io.tinyptq.plugins.optimize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyptq.api.model.Model;
import io.tinyptq.api.model.Unit;
import io.tinyptq.api.model.Units;
import io.tinyptq.api.quant.QuantScheme;
import io.tinyptq.api.quant.QuantizedModel;
import io.tinyptq.api.spi.Variable;
import io.tinyptq.testkit.TinyModels;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Which activation scales each unit trains, and their learning-rate schedule. */
class ReconstructionTest {

    static Reconstruction.Settings settings(double activationLr, boolean quantizeActivations, Set<Variable> variables) {
        return settings(activationLr, quantizeActivations, variables, false);
    }

    static Reconstruction.Settings settings(
            double activationLr, boolean quantizeActivations, Set<Variable> variables, boolean quantizeOutput) {
        var activations = new UnitActivations(quantizeActivations, activationLr, 1, quantizeOutput);
        var options = new RoundingOptimizer.Options(
                Granularity.LAYER,
                100,
                1e-3,
                32,
                64,
                activations,
                ReconstructionLoss.MSE,
                RoundingOptimizer.Regularizer.PAPER,
                0);
        return new Reconstruction.Settings("round", options, variables);
    }

    /** BRECQ's placement: a layer whose output is quantized trains that quantizer; its readers then leave it. */
    @Test
    void withQuantizedOutputsTheProducerTrainsItsOutputQuantizer() {
        Model m = TinyModels.resnet8(3);
        QuantizedModel qm = QuantizedModel.simulate(m, QuantScheme.of(4, 4));
        Reconstruction.Settings s = settings(4e-5, true, Set.of(Variable.ROUNDING), true);
        Set<String> trained = new HashSet<>();
        int producers = 0;
        for (Unit unit : Units.layers(m)) {
            Model slice = Units.slice(m, unit);
            if (qm.activationQuantizers().containsKey(unit.output())) {
                slice = Reconstruction.withOutputQuantized(slice, unit.output());
                producers++;
            }
            QuantizedModel part = qm.restrict(slice);
            Set<String> scales = Reconstruction.activationScales(s, unit, part, trained);
            assertEquals(
                    qm.activationQuantizers().containsKey(unit.output()), scales.contains(unit.output()), unit.name());
            for (String t : scales) {
                assertTrue(trained.add(t), t + " trained twice");
            }
        }
        assertTrue(producers > 0, "some layer outputs of resnet8 feed a layer directly");
        assertEquals(qm.activationQuantizers().keySet(), trained, "every activation quantizer trains exactly once");
    }

    @Test
    void theOutputQuantizerIsAppliedByAnIdentityReshapeBeforeTheLoss() {
        Model m = TinyModels.resnet8(3);
        Unit first = Units.layers(m).get(0);
        Model slice = Reconstruction.withOutputQuantized(Units.slice(m, first), first.output());
        assertEquals(List.of(first.output() + "/quantized"), slice.outputs());
        assertEquals(m.shape(first.output()), slice.shape(first.output() + "/quantized"));
        assertEquals(first.ops().size() + 1, slice.ops().size());
    }

    @Test
    void everyActivationQuantizerTrainsInTheFirstUnitThatReadsIt() {
        Model m = TinyModels.resnet8(3);
        QuantizedModel qm = QuantizedModel.simulate(m, QuantScheme.of(4, 4));
        Reconstruction.Settings s = settings(4e-5, true, Set.of(Variable.ROUNDING));
        Set<String> trained = new HashSet<>();
        int shared = 0;
        List<Unit> units = Units.layers(m);
        for (Unit unit : units) {
            QuantizedModel part = qm.restrict(Units.slice(m, unit));
            Set<String> scales = Reconstruction.activationScales(s, unit, part, trained);
            // A layer unit's only quantized activation is its input, trained unless an earlier unit shares it.
            boolean earlier = trained.contains(unit.input());
            shared += earlier ? 1 : 0;
            assertEquals(earlier ? Set.of() : Set.of(unit.input()), scales, unit.name());
            trained.addAll(scales);
        }
        assertTrue(shared > 0, "resnet8's residual forks feed two layers");
        assertEquals(qm.activationQuantizers().keySet(), trained, "every activation quantizer trains exactly once");
    }

    @Test
    void aBlockTrainsTheQuantizersItReadsButNotItsOutputs() {
        Model m = TinyModels.resnet8(3);
        QuantizedModel qm = QuantizedModel.simulate(m, QuantScheme.of(4, 4));
        Reconstruction.Settings s = settings(4e-5, true, Set.of(Variable.ROUNDING));
        Set<String> trained = new HashSet<>();
        for (Unit unit : Units.blocks(m)) {
            QuantizedModel part = qm.restrict(Units.slice(m, unit));
            Set<String> scales = Reconstruction.activationScales(s, unit, part, trained);
            assertTrue(!scales.contains(unit.output()), unit.name() + " trains its output's quantizer");
            assertEquals(!trained.contains(unit.input()), scales.contains(unit.input()), unit.name());
            trained.addAll(scales);
        }
        assertEquals(qm.activationQuantizers().keySet(), trained, "every activation quantizer trains exactly once");
    }

    @Test
    void noActivationScaleTrainsWhenOffOrAlreadyAVariable() {
        Model m = TinyModels.unbalancedChain(3);
        Unit whole = new Unit("all", "test", "x", "out", m.ops());
        QuantizedModel part = QuantizedModel.simulate(m, QuantScheme.of(4, 4));
        assertEquals(
                Set.of(),
                Reconstruction.activationScales(settings(0, true, Set.of(Variable.ROUNDING)), whole, part, Set.of()));
        assertEquals(
                Set.of(),
                Reconstruction.activationScales(settings(4e-5, true, Set.of(Variable.QPARAMS)), whole, part, Set.of()));
        assertEquals(
                part.activationQuantizers().keySet(),
                Reconstruction.activationScales(
                        settings(4e-5, true, Set.of(Variable.ROUNDING)), whole, part, Set.of()));
    }

    /** The exact search judges flips by the plain MSE; asking for it with a weighted loss fails up front. */
    @Test
    void refiningTheRoundingNeedsThePlainLoss() {
        var e = assertThrows(IllegalArgumentException.class, () -> rounding(ReconstructionLoss.FISHER, 100));
        assertTrue(e.getMessage().contains("refine_sweeps") && e.getMessage().contains("loss: mse"), e.getMessage());
        rounding(ReconstructionLoss.MSE, 100);
    }

    private static RoundingOptimizer.Options rounding(ReconstructionLoss loss, int refineSweeps) {
        return new RoundingOptimizer.Options(
                Granularity.LAYER,
                100,
                1e-3,
                32,
                64,
                UnitActivations.QUANTIZED,
                loss,
                RoundingOptimizer.Regularizer.PAPER,
                refineSweeps);
    }

    /** Keys that act only through another are rejected when that one switches them off. */
    @Test
    void dependentOptionsAreRejectedWithTheKeyThatSwitchesThemOff() {
        var stepSizes = assertThrows(IllegalArgumentException.class, () -> new UnitActivations(false, 4e-5, 1, false));
        assertTrue(
                stepSizes.getMessage().contains("learning_rate")
                        && stepSizes.getMessage().contains("quantize: true"),
                stepSizes.getMessage());
        var output = assertThrows(IllegalArgumentException.class, () -> new UnitActivations(false, 0, 1, true));
        assertTrue(output.getMessage().contains("quantize_output"), output.getMessage());
        // QDrop mixes the cached quantized-model inputs with full-precision ones: it acts without in-unit quantizers.
        new UnitActivations(false, 0, 0.5, false);
        var warmup =
                assertThrows(IllegalArgumentException.class, () -> new RoundingOptimizer.Regularizer(0.01, 20, 2, 1));
        assertTrue(warmup.getMessage().contains("warmup"), warmup.getMessage());
        new RoundingOptimizer.Regularizer(0, 20, 2, 1);
        var lsq = assertThrows(
                IllegalArgumentException.class,
                () -> new QParamOptimizer.Options(
                        Granularity.LAYER,
                        10,
                        1e-4,
                        32,
                        64,
                        UnitActivations.QUANTIZED.withLearningRate(4e-5),
                        ReconstructionLoss.MSE,
                        StepGradient.LSQ));
        assertTrue(lsq.getMessage().contains("activations.learning_rate"), lsq.getMessage());
    }
}
