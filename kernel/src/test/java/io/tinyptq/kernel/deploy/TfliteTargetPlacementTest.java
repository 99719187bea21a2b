package io.tinyptq.kernel.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyptq.api.InvalidOptionException;
import io.tinyptq.api.TinyPtqException;
import io.tinyptq.api.integer.ElementType;
import io.tinyptq.api.integer.IntegerModel;
import io.tinyptq.api.model.Model;
import io.tinyptq.api.model.Op;
import io.tinyptq.api.quant.Granularity;
import io.tinyptq.api.quant.IntegerGrid;
import io.tinyptq.api.quant.QuantParams;
import io.tinyptq.api.quant.QuantScheme;
import io.tinyptq.api.quant.QuantTarget;
import io.tinyptq.api.quant.QuantizedModel;
import io.tinyptq.api.quant.Quantizer;
import io.tinyptq.api.quant.Symmetry;
import io.tinyptq.kernel.store.QuantizedModelStore;
import io.tinyptq.testkit.TinyModels;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Target tflite: where quantizers go, what the target's last step does, and the lowering's integers. */
class TfliteTargetPlacementTest {
    static final QuantScheme TFLITE = QuantScheme.of(4, 8).withTarget(QuantTarget.TFLITE);

    @Test
    void narrowGridDropsTheMostNegativeLevel() {
        assertEquals(new IntegerGrid(-127, 127), IntegerGrid.narrow(8));
        assertEquals(new IntegerGrid(-7, 7), IntegerGrid.narrow(4));
        assertEquals(new IntegerGrid(-1, 1), IntegerGrid.narrow(2));
        assertThrows(IllegalArgumentException.class, () -> IntegerGrid.narrow(1));
    }

    @Test
    void everyMaterializedTensorIsQuantizedAndTheConstrainedOnesAreTied() {
        Model m = TinyModels.convNet(1);
        QuantizedModel qm = QuantizedModel.simulate(m, TFLITE);
        assertEquals(m.activationShapes().keySet(), qm.activationQuantizers().keySet(), "a quantizer per tensor");
        for (Op.Layer l : m.layers()) {
            Quantizer w = qm.weightQuantizers().get(l.name());
            assertTrue(w.spec().narrow(), l.name());
            assertEquals(new IntegerGrid(-7, 7), w.spec().grid(), l.name());
            assertEquals(Granularity.PER_CHANNEL, w.spec().granularity());
        }
        // Average pool and reshape keep their input's parameters: the very same quantizer.
        assertSame(
                qm.activationQuantizers().get("a1"), qm.activationQuantizers().get("pool1"));
        assertSame(
                qm.activationQuantizers().get("g1"), qm.activationQuantizers().get("f1"));
        Quantizer softmax = qm.activationQuantizers().get("probs");
        assertEquals(new QuantParams(new float[] {1f / 256}, new float[] {0f}), softmax.params());
        assertTrue(qm.fixed(softmax));
        assertFalse(qm.fixed(qm.activationQuantizers().get("a1")), "shared with a free tensor");
        assertEquals(java.util.Set.of("pool1", "f1", "probs"), qm.derivedActivations());
        assertFalse(qm.freeActivationQuantizers().containsKey("pool1"));
        // The paper's placement, by contrast: layer inputs only, full signed grid.
        QuantizedModel paper = QuantizedModel.simulate(m, QuantScheme.of(4, 8));
        assertFalse(paper.activationQuantizers().containsKey("probs"));
        assertEquals(
                new IntegerGrid(-8, 7),
                paper.weightQuantizers().get("conv").spec().grid());
    }

    @Test
    void refusesWhatInt8TensorsCannotHold() {
        Model m = TinyModels.convNet(1);
        QuantScheme wideInput = new QuantScheme(
                8,
                8,
                12,
                Granularity.PER_CHANNEL,
                Symmetry.SYMMETRIC,
                Symmetry.ASYMMETRIC,
                List.of(),
                QuantTarget.TFLITE);
        var e = assertThrows(InvalidOptionException.class, () -> QuantizedModel.simulate(m, wideInput));
        assertTrue(
                e.getMessage().contains("quantization.input_bits")
                        && e.getMessage().contains("8 bits or fewer"),
                e.getMessage());
        QuantScheme asym = new QuantScheme(
                8,
                8,
                8,
                Granularity.PER_CHANNEL,
                Symmetry.ASYMMETRIC,
                Symmetry.ASYMMETRIC,
                List.of(),
                QuantTarget.TFLITE);
        e = assertThrows(InvalidOptionException.class, () -> QuantizedModel.simulate(m, asym));
        assertTrue(e.getMessage().contains("quantization.weight_symmetry"), e.getMessage());
        e = assertThrows(
                InvalidOptionException.class,
                () -> QuantizedModel.simulate(
                        TinyModels.batchNormNet(1), QuantScheme.of(8, 8).withTarget(QuantTarget.TFLITE)));
        assertTrue(e.getMessage().contains("BatchNorm"), e.getMessage());
    }

    /**
     * Activations of fewer than 8 bits: each tensor takes the widest bit-width its reading layers ask for, a tensor
     * tied to another widens its owner, and the softmax output stays 8-bit.
     */
    @Test
    void narrowActivationsFollowTheirReaders() {
        Model m = TinyModels.convNet(1);
        QuantScheme w4a4 = QuantScheme.of(4, 4)
                .withTarget(QuantTarget.TFLITE)
                .withOverrides(List.of(new QuantScheme.LayerBits("fc", null, 6)));
        QuantizedModel qm = QuantizedModel.simulate(m, w4a4);
        assertEquals(8, qm.activationQuantizers().get("image").spec().bits(), "the model input: input_bits");
        assertEquals(4, qm.activationQuantizers().get("c1").spec().bits());
        assertEquals(4, qm.activationQuantizers().get("p1").spec().bits(), "read by ADD only: the scheme's");
        assertEquals(6, qm.activationQuantizers().get("g1").spec().bits(), "widened by 'fc' reading its reshape");
        assertSame(
                qm.activationQuantizers().get("g1"), qm.activationQuantizers().get("f1"));
        assertEquals(8, qm.activationQuantizers().get("probs").spec().bits());
    }

    /** Parameters set by hand, so the lowering's integers can be computed here. */
    static QuantizedModel handSet() {
        Model m = TinyModels.flattenNet(3);
        QuantizedModel qm = QuantizedModel.simulate(m, QuantScheme.of(8, 8).withTarget(QuantTarget.TFLITE));
        for (Quantizer w : qm.weightQuantizers().values()) {
            int ch = m.constant(((Op.Layer) m.op(w.target())).weight()).shape().dim(0);
            float[] s = new float[ch];
            java.util.Arrays.fill(s, 0.01f);
            s[0] = 0.02f;
            w.setParams(new QuantParams(s, new float[ch]));
        }
        qm.activationQuantizers().get("x").setParams(new QuantParams(new float[] {0.5f}, new float[] {100.4f}));
        qm.activationQuantizers().get("h").setParams(new QuantParams(new float[] {0.25f}, new float[] {0f}));
        qm.activationQuantizers().get("out").setParams(new QuantParams(new float[] {0.125f}, new float[] {128f}));
        return qm;
    }

    @Test
    void finishingPutsBiasesOnTheirGridAndZeroPointsOnIntegers() {
        QuantizedModel qm = handSet();
        Model before = qm.model();
        double moved = qm.finishForTarget();
        assertTrue(moved <= 0.5, "at most half a step: " + moved);
        assertEquals(100f, qm.activationQuantizers().get("x").params().zeroPoint(0));
        // conv 'c': bias scale s_in * s_w[c] = 0.5 * 0.02 for channel 0, 0.5 * 0.01 for the others.
        float[] b0 = before.constant("c.b").data();
        float[] b1 = qm.model().constant("c.b").data();
        assertEquals(Math.rint(b0[0] / 0.01) * 0.01, b1[0], 1e-6);
        assertEquals(Math.rint(b0[1] / 0.005) * 0.005, b1[1], 1e-6);
        assertEquals(
                0,
                QuantizedModel.simulate(TinyModels.flattenNet(3), QuantScheme.of(8, 8))
                        .finishForTarget(),
                "nothing to do for the paper's placement");
    }

    @Test
    void loweringStoresTheSimulationsIntegers() {
        QuantizedModel qm = handSet();
        qm.finishForTarget();
        IntegerModel im = TfliteLowering.lower(qm, false);
        // Activations: unsigned code c on [0, 255] is the int8 c - 128, zero point likewise.
        assertEquals(-28, im.quant("x").zeroPoint(0));
        assertEquals(0.5f, im.quant("x").scale(0));
        assertEquals(-128, im.quant("h").zeroPoint(0));
        assertEquals(im.quant("h"), im.quant("f"), "reshape keeps its input's quantization");
        assertEquals(0, im.quant("out").zeroPoint(0));
        // Weights: rint(w / s_c) on [-127, 127], zero point 0, per output channel.
        float[] w = qm.model().constant("c.w").data();
        int[] codes = im.values("c.w");
        int perChannel = w.length / 4;
        for (int i = 0; i < w.length; i++) {
            float s = i < perChannel ? 0.02f : 0.01f;
            assertEquals((int) Math.max(-127, Math.min(127, Math.rint(w[i] / s))), codes[i], "weight " + i);
        }
        assertEquals(ElementType.INT8, im.quant("c.w").type());
        assertEquals(0, im.quant("c.w").axis());
        // Biases: int32 codes b / (s_in * s_w[c]).
        float[] b = qm.model().constant("c.b").data();
        assertEquals(Math.round(b[0] / 0.01), im.values("c.b")[0]);
        assertEquals(ElementType.INT32, im.quant("c.b").type());
        assertEquals(0.005f, im.quant("c.b").scale(1));
        // Float I/O: the boundary holds the int8 quantization.
        IntegerModel floatIo = TfliteLowering.lower(qm, true);
        assertEquals(ElementType.FLOAT32, floatIo.quant("x").type());
        assertEquals(im.quant("x"), floatIo.integerQuant("x"));
    }

    @Test
    void loweringRefusesTheSimulatedTargetNamingTheKey() {
        QuantizedModel qm = QuantizedModel.simulate(TinyModels.flattenNet(3), QuantScheme.of(8, 8));
        var e = assertThrows(TinyPtqException.class, () -> TfliteLowering.lower(qm, false));
        assertTrue(e.getMessage().contains("quantization.target: tflite"), e.getMessage());
    }

    @Test
    void storedModelKeepsItsTargetGridsAndTies(@TempDir Path dir) {
        Model m = TinyModels.convNet(1);
        QuantizedModel qm = QuantizedModel.simulate(m, TFLITE);
        for (Op.Layer l : m.layers()) {
            Quantizer q = qm.weightQuantizers().get(l.name());
            int ch = m.constant(l.weight()).shape().dim(q.spec().channelAxis());
            float[] s = new float[ch];
            java.util.Arrays.fill(s, 0.05f);
            q.setParams(new QuantParams(s, new float[ch]));
        }
        qm.freeActivationQuantizers()
                .values()
                .forEach(q -> q.setParams(new QuantParams(new float[] {0.1f}, new float[] {3f})));
        QuantizedModelStore.save(qm.model(), qm, dir);
        QuantizedModel back = QuantizedModelStore.load(dir).quantized();
        assertEquals(QuantTarget.TFLITE, back.scheme().target());
        assertTrue(back.weightQuantizers().get("conv").spec().narrow());
        assertSame(
                back.activationQuantizers().get("a1"),
                back.activationQuantizers().get("pool1"));
        assertEquals(qm.derivedActivations(), back.derivedActivations());
        assertEquals(
                QuantizedModel.SOFTMAX_OUTPUT,
                back.activationQuantizers().get("probs").params());
    }
}
