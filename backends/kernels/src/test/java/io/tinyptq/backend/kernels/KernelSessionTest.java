package io.tinyptq.backend.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyptq.api.model.Activation;
import io.tinyptq.api.model.Model;
import io.tinyptq.api.model.Op;
import io.tinyptq.api.model.Units;
import io.tinyptq.api.quant.QuantizedModel;
import io.tinyptq.api.spi.StepControl;
import io.tinyptq.api.spi.TrainingProblem;
import io.tinyptq.api.spi.TrainingSession;
import io.tinyptq.api.spi.TrainingSettings;
import io.tinyptq.api.spi.Variable;
import io.tinyptq.backend.cpu.CpuBackend;
import io.tinyptq.testkit.LayerProblems;
import io.tinyptq.testkit.RoundingControl;
import io.tinyptq.testkit.TinyModels;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The kernels' plain-Java session against the cpu backend's training session, the oracle: same problem, settings
 * and seed, so the same mini-batches; the losses of every step, the full-data loss and the committed (hard-rounded)
 * weights agree up to float summation order, on every ResNet-8 layer shape.
 */
class KernelSessionTest {

    @Test
    void matchesTheCpuBackendOnEveryResnet8LayerShape() {
        for (String layer : LayerProblems.RESNET8_SHAPES) {
            int samples = 40;
            int steps = layer.startsWith("b1") || layer.equals("conv1") ? 3 : 6;
            TrainingSettings settings = new TrainingSettings(1e-3, 8, 11);
            TrainingProblem cpuProblem = LayerProblems.resnet8(layer, samples, 3, 4, 5);
            TrainingProblem kernelProblem = LayerProblems.resnet8(layer, samples, 3, 4, 5);
            try (TrainingSession cpu = new CpuBackend().train(cpuProblem, settings, new CpuBackend.Options(1));
                    TrainingSession kernels = KernelSession.java(kernelProblem, settings)) {
                assertEquals(cpu.loss(), kernels.loss(), 1e-5 * cpu.loss(), layer + " initial loss");
                for (int s = 0; s < steps; s++) {
                    var rounding = s < steps / 2 ? StepControl.NONE : RoundingControl.of(0.5, 20, 2);
                    double a = cpu.run(1, rounding);
                    double b = kernels.run(1, rounding);
                    // Adam divides a gradient by its own magnitude, so summation-order noise in gradients near
                    // zero moves V by up to a learning rate: the trajectories agree to 1e-3, not to float precision.
                    assertEquals(a, b, (s == 0 ? 1e-5 : 1e-3) * a, layer + " step " + s);
                }
                double a = cpu.run(3, RoundingControl.of(0.5, 10, 4));
                double b = kernels.run(3, RoundingControl.of(0.5, 10, 4));
                assertEquals(a, b, 1e-3 * a, layer + " mean of 3 steps");
                assertEquals(cpu.loss(), kernels.loss(), 1e-3 * cpu.loss(), layer + " final loss");
                cpu.commit();
                kernels.commit();
            }
            String w = ((Op.Layer) cpuProblem.model().model().op(layer)).weight();
            float[] hardCpu = cpuProblem.model().model().constant(w).data();
            float[] hardKernels = kernelProblem.model().model().constant(w).data();
            int differ = 0;
            for (int i = 0; i < hardCpu.length; i++) {
                if (hardCpu[i] != hardKernels[i]) {
                    differ++;
                }
            }
            // A weight whose V sits within float noise of 0 may round either way.
            assertTrue(
                    differ <= Math.max(1, hardCpu.length / 1000),
                    layer + ": " + differ + " of " + hardCpu.length + " hard-rounded weights differ");
        }
    }

    /** Depthwise layers (DS-CNN's and MobileNet's shapes, a channel multiplier, ReLU6) against the cpu backend. */
    @Test
    void depthwiseLayersMatchTheCpuBackend() {
        record Case(int h, int w, int c, int m, int stride, Activation act) {}
        for (Case k : new Case[] {
            new Case(25, 5, 64, 1, 1, Activation.RELU),
            new Case(24, 24, 16, 1, 2, Activation.RELU6),
            new Case(7, 6, 5, 2, 1, Activation.NONE)
        }) {
            for (Variable variable : new Variable[] {Variable.ROUNDING, Variable.WEIGHTS}) {
                String label = k + " " + variable;
                TrainingSettings settings = new TrainingSettings(1e-3, 8, 17);
                TrainingProblem a = withVariable(
                        LayerProblems.depthwise(k.h(), k.w(), k.c(), k.m(), k.stride(), k.act(), 40, 3, 4, 5),
                        variable);
                TrainingProblem b = withVariable(
                        LayerProblems.depthwise(k.h(), k.w(), k.c(), k.m(), k.stride(), k.act(), 40, 3, 4, 5),
                        variable);
                try (TrainingSession cpu = new CpuBackend().train(a, settings, new CpuBackend.Options(1));
                        TrainingSession kernels = KernelSession.java(b, settings)) {
                    assertSameFirstSteps(cpu, kernels, label);
                    assertEquals(cpu.loss(), kernels.loss(), 1e-3 * cpu.loss(), label + " final loss");
                }
            }
        }
    }

    /** 1-D convolutions (the HAR CNN's: SAME padding, stride 2) against the cpu backend. */
    @Test
    void conv1dLayersMatchTheCpuBackend() {
        Model seq = TinyModels.sequenceNet(2);
        for (Op.Layer l : seq.layers()) {
            if (!(l instanceof Op.Conv1D)) {
                continue;
            }
            var unit = Units.layers(seq).stream()
                    .filter(u -> u.name().equals(l.name()))
                    .findFirst()
                    .orElseThrow();
            Model slice = Units.slice(seq, unit);
            for (Variable variable : new Variable[] {Variable.ROUNDING, Variable.WEIGHTS}) {
                String label = l.name() + " " + variable;
                TrainingSettings settings = new TrainingSettings(1e-3, 8, 19);
                TrainingProblem a = withVariable(LayerProblems.problem(slice, l, 40, 3, 4, 6), variable);
                TrainingProblem b = withVariable(LayerProblems.problem(slice, l, 40, 3, 4, 6), variable);
                try (TrainingSession cpu = new CpuBackend().train(a, settings, new CpuBackend.Options(1));
                        TrainingSession kernels = KernelSession.java(b, settings)) {
                    assertSameFirstSteps(cpu, kernels, label);
                }
            }
        }
    }

    /** Equal initial losses, then six single steps (three plain, three with the rounding regularizer) losing the same. */
    private static void assertSameFirstSteps(TrainingSession cpu, TrainingSession kernels, String label) {
        assertEquals(cpu.loss(), kernels.loss(), 1e-5 * cpu.loss(), label + " initial loss");
        for (int s = 0; s < 6; s++) {
            var r = s < 3 ? StepControl.NONE : RoundingControl.of(0.5, 20, 2);
            double x = cpu.run(1, r);
            assertEquals(x, kernels.run(1, r), (s == 0 ? 1e-5 : 1e-3) * x, label + " step " + s);
        }
    }

    private static TrainingProblem withVariable(TrainingProblem p, Variable v) {
        return new TrainingProblem(p.model(), Set.of(v), p.inputs(), p.targets(), p.samples(), true, null);
    }

    /** AdaQuant: weights through the straight-through estimator, and biases, trained by one Adam. */
    @Test
    void weightsAndBiasesTrainAsOnTheCpuBackend() {
        for (String layer : new String[] {"conv1", "b2.conv1", "b2.shortcut", "b3.conv2", "fc"}) {
            TrainingSettings settings = new TrainingSettings(1e-4, 8, 13);
            TrainingProblem cpuProblem = weights(LayerProblems.resnet8(layer, 40, 3, 4, 5));
            TrainingProblem kernelProblem = weights(LayerProblems.resnet8(layer, 40, 3, 4, 5));
            try (TrainingSession cpu = new CpuBackend().train(cpuProblem, settings, new CpuBackend.Options(1));
                    TrainingSession kernels = KernelSession.java(kernelProblem, settings)) {
                assertEquals(cpu.loss(), kernels.loss(), 1e-5 * cpu.loss(), layer + " initial loss");
                for (int s = 0; s < 4; s++) {
                    double a = cpu.run(1, StepControl.NONE);
                    assertEquals(a, kernels.run(1, StepControl.NONE), 1e-3 * a, layer + " step " + s);
                }
                double a = cpu.run(10, StepControl.NONE);
                assertEquals(a, kernels.run(10, StepControl.NONE), 1e-3 * a, layer + " 10 steps");
                cpu.commit();
                kernels.commit();
            }
            Op.Layer l = (Op.Layer) cpuProblem.model().model().op(layer);
            for (String t : new String[] {l.weight(), l.bias()}) {
                float[] a = cpuProblem.model().model().constant(t).data();
                float[] b = kernelProblem.model().model().constant(t).data();
                // 14 Adam steps of lr 1e-4 move a weight at most 1.4e-3; a gradient near 0 whose sign differs in the
                // last bits moves it the other way, so a few weights may differ by up to twice that.
                int differ = 0;
                for (int i = 0; i < a.length; i++) {
                    assertEquals(a[i], b[i], 2 * 14 * 1e-4, layer + " " + t + "[" + i + "]");
                    differ += Math.abs(a[i] - b[i]) > 1e-6 + 1e-6 * Math.abs(a[i]) ? 1 : 0;
                }
                assertTrue(
                        differ <= Math.max(1, a.length / 20),
                        layer + " " + t + ": " + differ + " of " + a.length + " values differ");
            }
        }
    }

    private static TrainingProblem weights(TrainingProblem p) {
        return new TrainingProblem(
                p.model(), Set.of(Variable.WEIGHTS), p.inputs(), p.targets(), p.samples(), true, null);
    }

    @Test
    void refusesWhatTheKernelsDoNotImplementAndSaysWhy() {
        TrainingSettings settings = new TrainingSettings(1e-3, 4, 1);
        TrainingProblem p = LayerProblems.resnet8("b2.conv1", 8, 4, 4, 1);
        var qparams = new TrainingProblem(p.model(), Set.of(Variable.QPARAMS), p.inputs(), p.targets(), 8, true, null);
        assertTrue(assertThrows(UnsupportedOperationException.class, () -> KernelSession.java(qparams, settings))
                .getMessage()
                .contains("the rounding (AdaRound) or the weights (AdaQuant) alone"));
        var qdrop = p.withQDrop(p.inputs(), 0.5);
        assertTrue(assertThrows(UnsupportedOperationException.class, () -> KernelSession.java(qdrop, settings))
                .getMessage()
                .contains("QDrop"));
        var scales = new TrainingSettings(
                1e-3,
                4,
                1,
                1e-4,
                Set.of(p.model().model().inputs().keySet().iterator().next()));
        assertTrue(assertThrows(UnsupportedOperationException.class, () -> KernelSession.java(p, scales))
                .getMessage()
                .contains("activation step sizes"));
        Model block = TinyModels.resnet8(1);
        var unit = Units.blocks(block).stream()
                .filter(u -> u.kind().equals("residual"))
                .findFirst()
                .orElseThrow();
        Model slice = Units.slice(block, unit);
        var blockProblem = new TrainingProblem(
                QuantizedModel.simulate(slice, io.tinyptq.api.quant.QuantScheme.of(4, 4)),
                Set.of(Variable.ROUNDING),
                new float[slice.shape(unit.input()).size()],
                new float[slice.shape(unit.output()).size()],
                1,
                true,
                null);
        String message = assertThrows(
                        UnsupportedOperationException.class, () -> KernelSession.java(blockProblem, settings))
                .getMessage();
        assertTrue(
                message.contains(slice.name())
                        && message.contains("single conv2d, depthwise_conv2d, conv1d or fully_connected"),
                message);
    }
}
