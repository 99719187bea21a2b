package io.tinyptq.backend.tornado;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyptq.api.TinyPtqException;
import io.tinyptq.api.model.Activation;
import io.tinyptq.api.model.Model;
import io.tinyptq.api.model.Op;
import io.tinyptq.api.model.Units;
import io.tinyptq.api.spi.StepControl;
import io.tinyptq.api.spi.TrainingProblem;
import io.tinyptq.api.spi.TrainingSession;
import io.tinyptq.api.spi.TrainingSettings;
import io.tinyptq.api.spi.Variable;
import io.tinyptq.backend.cpu.CpuBackend;
import io.tinyptq.backend.kernels.KernelSession;
import io.tinyptq.testkit.LayerProblems;
import io.tinyptq.testkit.RoundingControl;
import io.tinyptq.testkit.TinyModels;
import java.util.Set;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Differential tests: the TornadoVM session against the same kernels' plain-Java loops and against the cpu backend,
 * on every ResNet-8 layer shape (odd channel counts, strides, padding, the dense layer). Reductions run in another
 * order on the device, so tolerances scale with the reduction length. Skipped, saying so, where TornadoVM does not
 * start or finds no OpenCL device; a device that fails the probe's check kernel fails them.
 */
class TornadoSessionTest {
    private static TornadoBackend backend;
    private static TornadoBackend.Options options;

    @BeforeAll
    static void probe() {
        backend = new TornadoBackend();
        options = backend.defaultOptions();
        try {
            System.out.println("tornado backend: " + backend.info(options).device());
        } catch (TinyPtqException e) {
            // Skip only where TornadoVM is not there to test: it does not start, or it sees no device. A device that
            // fails the probe's check kernel, or any other error, is this backend's failure and fails the tests.
            String m = String.valueOf(e.getMessage());
            String probe = "backend 'tornado': "; // how TornadoBackend prefixes the probe's message
            if (!m.startsWith(probe + TornadoProbe.NOT_STARTED) && !m.startsWith(probe + TornadoProbe.NO_DEVICE)) {
                throw e;
            }
            System.out.println("SKIPPED: TornadoVM differential tests, no usable device: " + m);
            Assumptions.abort("no usable TornadoVM device: " + m);
        }
    }

    @Test
    void matchesThePlainKernelsAndTheCpuBackendOnEveryResnet8LayerShape() {
        for (String layer : LayerProblems.RESNET8_SHAPES) {
            int samples = 40;
            TrainingSettings settings = new TrainingSettings(1e-3, 8, 11);
            TrainingProblem onDevice = LayerProblems.resnet8(layer, samples, 3, 4, 5);
            TrainingProblem plain = LayerProblems.resnet8(layer, samples, 3, 4, 5);
            TrainingProblem cpuProblem = LayerProblems.resnet8(layer, samples, 3, 4, 5);
            try (TrainingSession t = backend.train(onDevice, settings, options);
                    TrainingSession j = KernelSession.java(plain, settings);
                    TrainingSession c = new CpuBackend().train(cpuProblem, settings, new CpuBackend.Options(1))) {
                // Float sums of up to K = kh*kw*C products in another order: relative error about sqrt(K) * 2^-24.
                var k = (Op.Layer) onDevice.model().model().op(layer);
                int reduction = onDevice.model().model().constant(k.weight()).data().length
                        / onDevice.model().model().constant(k.weight()).shape().dim(0);
                double tol = 1e-6 * Math.sqrt(reduction) + 1e-6;
                double l0 = j.loss();
                assertEquals(l0, t.loss(), tol * l0, layer + " initial loss");
                for (int s = 0; s < 6; s++) {
                    var r = s < 3 ? StepControl.NONE : RoundingControl.of(0.5, 20, 2);
                    double a = j.run(1, r);
                    double b = t.run(1, r);
                    double cpu = c.run(1, r);
                    assertEquals(a, b, 100 * tol * a, layer + " step " + s + " (device vs plain kernels)");
                    assertEquals(cpu, b, 1e-3 * cpu, layer + " step " + s + " (device vs cpu backend)");
                }
                double a = j.run(20, RoundingControl.of(0.5, 10, 4));
                double b = t.run(20, RoundingControl.of(0.5, 10, 4));
                assertEquals(a, b, 1e-3 * a, layer + " mean of 20 steps");
                double la = j.loss();
                assertEquals(la, t.loss(), 1e-3 * la, layer + " final loss");
                j.commit();
                t.commit();
            }
            String w = ((Op.Layer) onDevice.model().model().op(layer)).weight();
            float[] hd = onDevice.model().model().constant(w).data();
            float[] hj = plain.model().model().constant(w).data();
            int differ = 0;
            for (int i = 0; i < hd.length; i++) {
                differ += hd[i] != hj[i] ? 1 : 0;
            }
            assertTrue(
                    differ <= Math.max(1, hd.length / 1000),
                    layer + ": " + differ + " of " + hd.length
                            + " hard-rounded weights differ between the device and the plain kernels");
        }
    }

    /** Depthwise layers (DS-CNN's 25x5x64, a strided ReLU6 one, a channel multiplier) on the device. */
    @Test
    void depthwiseLayersMatchThePlainKernels() {
        Object[][] cases = {
            {25, 5, 64, 1, 1, Activation.RELU}, {24, 24, 16, 1, 2, Activation.RELU6}, {7, 6, 5, 2, 1, Activation.NONE}
        };
        for (Object[] k : cases) {
            for (Variable variable : new Variable[] {Variable.ROUNDING, Variable.WEIGHTS}) {
                String label = java.util.Arrays.toString(k) + " " + variable;
                TrainingSettings settings = new TrainingSettings(1e-3, 8, 17);
                TrainingProblem onDevice = withVariable(
                        LayerProblems.depthwise(
                                (int) k[0],
                                (int) k[1],
                                (int) k[2],
                                (int) k[3],
                                (int) k[4],
                                (Activation) k[5],
                                40,
                                3,
                                4,
                                5),
                        variable);
                TrainingProblem plain = withVariable(
                        LayerProblems.depthwise(
                                (int) k[0],
                                (int) k[1],
                                (int) k[2],
                                (int) k[3],
                                (int) k[4],
                                (Activation) k[5],
                                40,
                                3,
                                4,
                                5),
                        variable);
                try (TrainingSession t = backend.train(onDevice, settings, options);
                        TrainingSession j = KernelSession.java(plain, settings)) {
                    for (int s = 0; s < 6; s++) {
                        var r = s < 3 ? StepControl.NONE : RoundingControl.of(0.5, 20, 2);
                        double a = j.run(1, r);
                        assertEquals(a, t.run(1, r), 1e-4 * a, label + " step " + s);
                    }
                    double a = j.loss();
                    assertEquals(a, t.loss(), 1e-4 * a, label + " final loss");
                }
            }
        }
    }

    /** 1-D convolutions (one without a bias) on the device against the plain kernels. */
    @Test
    void conv1dLayersMatchThePlainKernels() {
        Model seq = TinyModels.sequenceNet(2);
        for (String name : new String[] {"conv1", "conv2"}) {
            Op.Layer l = (Op.Layer) seq.op(name);
            Model slice = Units.slice(
                    seq,
                    Units.layers(seq).stream()
                            .filter(u -> u.name().equals(name))
                            .findFirst()
                            .orElseThrow());
            for (Variable variable : new Variable[] {Variable.ROUNDING, Variable.WEIGHTS}) {
                TrainingSettings settings = new TrainingSettings(1e-3, 8, 19);
                TrainingProblem onDevice = withVariable(LayerProblems.problem(slice, l, 40, 3, 4, 6), variable);
                TrainingProblem plain = withVariable(LayerProblems.problem(slice, l, 40, 3, 4, 6), variable);
                try (TrainingSession t = backend.train(onDevice, settings, options);
                        TrainingSession j = KernelSession.java(plain, settings)) {
                    for (int s = 0; s < 6; s++) {
                        var r = s < 3 ? StepControl.NONE : RoundingControl.of(0.5, 20, 2);
                        double a = j.run(1, r);
                        assertEquals(a, t.run(1, r), 1e-4 * a, name + " " + variable + " step " + s);
                    }
                }
            }
        }
    }

    private static TrainingProblem withVariable(TrainingProblem p, Variable v) {
        return new TrainingProblem(p.model(), Set.of(v), p.inputs(), p.targets(), p.samples(), true, null);
    }

    /** AdaQuant's weights and biases on the device against the plain kernels. */
    @Test
    void weightsAndBiasesTrainAsWithThePlainKernels() {
        for (String layer : new String[] {"conv1", "b2.conv1", "b2.shortcut", "fc"}) {
            TrainingSettings settings = new TrainingSettings(1e-4, 8, 13);
            TrainingProblem onDevice = weights(LayerProblems.resnet8(layer, 40, 3, 4, 5));
            TrainingProblem plain = weights(LayerProblems.resnet8(layer, 40, 3, 4, 5));
            try (TrainingSession t = backend.train(onDevice, settings, options);
                    TrainingSession j = KernelSession.java(plain, settings)) {
                for (int s = 0; s < 5; s++) {
                    double a = j.run(1, StepControl.NONE);
                    assertEquals(a, t.run(1, StepControl.NONE), 1e-4 * a, layer + " step " + s);
                }
                double a = j.loss();
                assertEquals(a, t.loss(), 1e-4 * a, layer + " final loss");
                j.commit();
                t.commit();
            }
            Op.Layer l = (Op.Layer) onDevice.model().model().op(layer);
            for (String name : new String[] {l.weight(), l.bias()}) {
                float[] a = plain.model().model().constant(name).data();
                float[] b = onDevice.model().model().constant(name).data();
                // Adam moves a weight whose gradient is near 0 by a full step either way: a few may differ by up to
                // 2 x 5 steps x lr; the rest agree to float precision.
                int differ = 0;
                for (int i = 0; i < a.length; i++) {
                    assertEquals(a[i], b[i], 2 * 5 * 1e-4, layer + " " + name + "[" + i + "]");
                    differ += Math.abs(a[i] - b[i]) > 1e-6 + 1e-6 * Math.abs(a[i]) ? 1 : 0;
                }
                assertTrue(
                        differ <= Math.max(1, a.length / 20),
                        layer + " " + name + ": " + differ + " of " + a.length + " values differ");
            }
        }
    }

    private static TrainingProblem weights(TrainingProblem p) {
        return new TrainingProblem(
                p.model(), Set.of(Variable.WEIGHTS), p.inputs(), p.targets(), p.samples(), true, null);
    }

    @Test
    void declinesWhatItCannotRunSoThePipelineUsesTheCpu() {
        TrainingProblem p = LayerProblems.resnet8("b2.conv1", 8, 4, 4, 1);
        var qparams = new TrainingProblem(p.model(), Set.of(Variable.QPARAMS), p.inputs(), p.targets(), 8, true, null);
        assertThrows(
                UnsupportedOperationException.class,
                () -> backend.train(qparams, new TrainingSettings(1e-3, 4, 1), options));
        assertThrows(
                UnsupportedOperationException.class,
                () -> backend.compile(p.model().model(), p.model(), 4, options));
    }

    @Test
    void anUnknownDeviceFailsNamingTheDevicesThereAre() {
        var e = assertThrows(RuntimeException.class, () -> backend.info(new TornadoBackend.Options("7:7")));
        assertTrue(
                e.getMessage().contains("no TornadoVM device '7:7'")
                        && e.getMessage().contains("0:0"),
                e.getMessage());
    }
}
