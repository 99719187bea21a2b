package io.tinyptq.backend.cpu;

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
import io.tinyptq.api.spi.ModelExecutor;
import io.tinyptq.testkit.ReferenceBackend;
import io.tinyptq.testkit.TinyModels;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The CPU backend's forward pass against the testkit's textbook reference, float and quantized. */
class CpuBackendTest {
    /** Rounding-tie flips allowed in the quantized comparison (see there). */
    private static final int FLIPS = 2;

    private final Model model = TinyModels.convNet(3);
    private final float[] batch = TinyModels.uniform(4, 5, model.shape("image"), -1f, 1f);

    private static Map<String, float[]> run(ModelExecutor exec, float[] input, int n) {
        Map<String, float[]> seen = new HashMap<>();
        exec.forward(input, n, (t, v, off, len) -> seen.put(t, java.util.Arrays.copyOfRange(v, off, off + len)));
        return seen;
    }

    private static void assertClose(float[] expected, float[] actual, double tol, String what) {
        assertEquals(expected.length, actual.length, what + " length");
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], tol * Math.max(1, Math.abs(expected[i])), what + "[" + i + "]");
        }
    }

    @Test
    void floatForwardMatchesTheReferenceOnEveryTensor() {
        for (int threads : new int[] {1, 2}) {
            try (var cpu = new CpuBackend().compile(model, null, 8, new CpuBackend.Options(threads));
                    var ref = new ReferenceBackend().compile(model, null, 8, NoOptions.INSTANCE)) {
                Map<String, float[]> a = run(cpu, batch, 5);
                Map<String, float[]> b = run(ref, batch, 5);
                assertEquals(b.keySet(), a.keySet());
                b.forEach((t, v) -> assertClose(v, a.get(t), 1e-5, t + " (" + threads + " threads)"));
            }
        }
    }

    @Test
    void oneDimensionalOpsMatchTheReference() {
        Model seq = TinyModels.sequenceNet(7);
        float[] in = TinyModels.uniform(8, 3, seq.shape("signal"), -2f, 2f);
        try (var cpu = new CpuBackend().compile(seq, null, 4, new CpuBackend.Options(2));
                var ref = new ReferenceBackend().compile(seq, null, 4, NoOptions.INSTANCE)) {
            Map<String, float[]> a = run(cpu, in, 3);
            Map<String, float[]> b = run(ref, in, 3);
            b.forEach((t, v) -> assertClose(v, a.get(t), 1e-5, t));
        }
    }

    /**
     * The quantized forward pass against the reference on every tensor. Quantized tensors hold grid values, so the two
     * backends agree exactly unless float summation order moves a pre-quantization value across a rounding tie; that
     * flips one element by exactly one step of its quantizer. Such flips are counted and at most {@link #FLIPS} are
     * allowed (measured: none on this batch, nor on 199 other random batches of 8). Float tensors must match to
     * 1e-5, plus the most a flip upstream can move them: each float tensor of this net depends on the quantized
     * tensor before it through one weighted layer (at most its largest |weight| times the step per flipped element),
     * the residual add sums two such branches, and pooling, means and the softmax do not amplify.
     */
    @Test
    void quantizedForwardMatchesTheReferenceOnEveryTensor() {
        QuantizedModel qm = QuantizedModel.simulate(model, QuantScheme.of(4, 4));
        for (Quantizer q : qm.weightQuantizers().values()) {
            int c = model.constant(((io.tinyptq.api.model.Op.Layer) model.op(q.target())).weight())
                    .shape()
                    .dim(q.spec().channelAxis());
            float[] s = new float[c];
            java.util.Arrays.fill(s, FakeQuant.symmetricScale(0.9f, q.spec().grid()));
            q.setParams(new QuantParams(s, new float[c]));
        }
        for (Quantizer q : qm.activationQuantizers().values()) {
            float[] sz = FakeQuant.asymmetricFromRange(-1f, 2f, q.spec().grid());
            q.setParams(new QuantParams(new float[] {sz[0]}, new float[] {sz[1]}));
        }
        double maxWeight = 0; // the largest |quantized weight|
        for (io.tinyptq.api.model.Op.Layer l : model.layers()) {
            Quantizer q = qm.weightQuantizers().get(l.name());
            for (float w : model.constant(l.weight()).data()) {
                maxWeight = Math.max(
                        maxWeight,
                        Math.abs(FakeQuant.quantize(
                                w, q.params().scale(0), 0f, q.spec().grid())));
            }
        }
        float[] data = TinyModels.uniform(4, 8, model.shape("image"), -1f, 1f);
        for (int threads : new int[] {1, 2}) {
            try (var cpu = new CpuBackend().compile(model, qm, 8, new CpuBackend.Options(threads));
                    var ref = new ReferenceBackend().compile(model, qm, 8, NoOptions.INSTANCE)) {
                Map<String, float[]> a = run(cpu, data, 8);
                Map<String, float[]> b = run(ref, data, 8);
                assertEquals(b.keySet(), a.keySet());
                assertEquals(model.activationShapes().keySet(), b.keySet());
                int flips = 0;
                double moved = 0; // sum over flips of their step: what the flips so far can move later values by
                for (String t : model.activationShapes().keySet()) { // definition order: producers first
                    float[] want = b.get(t);
                    float[] got = a.get(t);
                    assertEquals(want.length, got.length, t + " length");
                    Quantizer q = qm.activationQuantizers().get(t);
                    String what = t + " (" + threads + " threads)";
                    if (q == null) {
                        double slack = 2 * maxWeight * moved;
                        for (int i = 0; i < want.length; i++) {
                            assertEquals(
                                    want[i],
                                    got[i],
                                    1e-5 * Math.max(1, Math.abs(want[i])) + slack,
                                    what + "[" + i + "]");
                        }
                        continue;
                    }
                    float step = q.params().scale(0);
                    for (int i = 0; i < want.length; i++) {
                        double tol = 1e-5 * Math.max(1, Math.abs(want[i]));
                        double d = Math.abs(want[i] - got[i]);
                        if (d > tol) {
                            assertEquals(
                                    step,
                                    d,
                                    tol,
                                    what + "[" + i + "]: " + got[i] + " vs " + want[i]
                                            + " is neither equal nor one step of " + step + " away");
                            flips++;
                            moved += step;
                        }
                    }
                }
                assertTrue(flips <= FLIPS, flips + " one-step flips (" + threads + " threads)");
            }
        }
    }

    @Test
    void rejectsBatchesLargerThanCompiled() {
        try (var cpu = new CpuBackend().compile(model, null, 2, new CpuBackend.Options(1))) {
            var e = assertThrows(IllegalArgumentException.class, () -> cpu.forward(batch, 3, (t, v, o, l) -> {}));
            assertEquals("batch 3 outside 1..2 (compiled maximum)", e.getMessage());
        }
    }
}
