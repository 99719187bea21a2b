package io.tinyptq.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

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

    @Test
    void quantizedForwardMatchesTheReference() {
        QuantizedModel qm = QuantizedModel.simulate(model, QuantScheme.of(4, 4));
        for (Quantizer q : qm.weightQuantizers().values()) {
            int c = model.constant(((io.tinyptq.api.model.Op.Layer) model.op(q.target())).weight()).shape()
                    .dim(q.spec().channelAxis());
            float[] s = new float[c];
            java.util.Arrays.fill(s, FakeQuant.symmetricScale(0.9f, q.spec().grid()));
            q.setParams(new QuantParams(s, new float[c]));
        }
        for (Quantizer q : qm.activationQuantizers().values()) {
            float[] sz = FakeQuant.asymmetricFromRange(-1f, 2f, q.spec().grid());
            q.setParams(new QuantParams(new float[] {sz[0]}, new float[] {sz[1]}));
        }
        try (var cpu = new CpuBackend().compile(model, qm, 8, new CpuBackend.Options(2));
             var ref = new ReferenceBackend().compile(model, qm, 8, NoOptions.INSTANCE)) {
            // Quantized activations can flip a grid step on float ties; compare the final probabilities loosely
            // and the first quantized tensor exactly.
            Map<String, float[]> a = run(cpu, batch, 5);
            Map<String, float[]> b = run(ref, batch, 5);
            assertClose(b.get("image"), a.get("image"), 0, "image");
            assertClose(b.get("probs"), a.get("probs"), 2e-2, "probs");
        }
    }

    @Test
    void rejectsBatchesLargerThanCompiled() {
        try (var cpu = new CpuBackend().compile(model, null, 2, new CpuBackend.Options(1))) {
            var e = assertThrows(IllegalArgumentException.class, () -> cpu.forward(batch, 3, (t, v, o, l) -> { }));
            assertEquals("batch 3 outside 1..2 (compiled maximum)", e.getMessage());
        }
    }
}
