package io.tinyptq.kernel.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.tinyptq.api.InvalidModelException;
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
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class QuantizedModelStoreTest {

    static QuantizedModel quantized(Model m) {
        QuantizedModel qm = QuantizedModel.simulate(m, QuantScheme.of(4, 6));
        for (Quantizer q : qm.weightQuantizers().values()) {
            int c = m.constant(((io.tinyptq.api.model.Op.Layer) m.op(q.target())).weight()).shape().dim(q.spec().channelAxis());
            float[] s = new float[c];
            for (int i = 0; i < c; i++) {
                s[i] = 0.05f + 0.01f * i;
            }
            q.setParams(new QuantParams(s, new float[c]));
        }
        for (Quantizer q : qm.activationQuantizers().values()) {
            float[] sz = FakeQuant.asymmetricFromRange(-0.7f, 2.5f, q.spec().grid());
            q.setParams(new QuantParams(new float[] {sz[0]}, new float[] {sz[1]}));
        }
        return qm;
    }

    static float[] run(Model m, QuantizedModel q, float[] x, int n) {
        try (ModelExecutor e = new ReferenceBackend().compile(m, q, n, NoOptions.INSTANCE)) {
            return e.forward(x, n, ModelExecutor.ActivationListener.NONE);
        }
    }

    @Test
    void quantizedModelRoundTripsBitForBit(@TempDir Path dir) {
        for (Model m : java.util.List.of(TinyModels.convNet(2), TinyModels.sequenceNet(3), TinyModels.unbalancedChain(4))) {
            QuantizedModel qm = quantized(m);
            Path d = dir.resolve(m.name());
            QuantizedModelStore.save(m, qm, d);
            assertTrue(QuantizedModelStore.isStore(d));
            QuantizedModelStore.Stored back = QuantizedModelStore.load(d);
            assertEquals(m.ops(), back.model().ops());
            assertEquals(m.constants(), back.model().constants());
            String in = m.inputs().keySet().iterator().next();
            float[] x = TinyModels.uniform(7, 4, m.shape(in), -1f, 1f);
            assertArrayEquals(run(m, qm, x, 4), run(back.model(), back.quantized(), x, 4));
        }
    }

    @Test
    void batchNormLayersRoundTrip(@TempDir Path dir) {
        Model m = TinyModels.batchNormNet(5);
        QuantizedModelStore.save(m, null, dir);
        Model back = QuantizedModelStore.load(dir).model();
        assertEquals(m.ops(), back.ops());
        assertEquals(m.constants(), back.constants());
    }

    @Test
    void floatModelsHaveNoQuantizers(@TempDir Path dir) {
        QuantizedModelStore.save(TinyModels.mlp(1, 4, 5, 2), null, dir);
        assertNull(QuantizedModelStore.load(dir).quantized());
    }

    @Test
    void truncatedConstantsAndForeignFilesAreNamed(@TempDir Path dir) throws Exception {
        Model m = TinyModels.mlp(1, 4, 5, 2);
        QuantizedModelStore.save(m, null, dir);
        Path bin = dir.resolve(QuantizedModelStore.CONSTANTS_BIN);
        byte[] all = Files.readAllBytes(bin);
        Files.write(bin, java.util.Arrays.copyOf(all, all.length - 8));
        var e = assertThrows(InvalidModelException.class, () -> QuantizedModelStore.load(dir));
        assertTrue(e.getMessage().contains("(truncated file?)"), e.getMessage());
        Files.writeString(dir.resolve(QuantizedModelStore.MODEL_JSON), "{\"format\": \"onnx\"}");
        var f = assertThrows(InvalidModelException.class, () -> QuantizedModelStore.load(dir));
        assertTrue(f.getMessage().endsWith("not a tinyptq model (field 'format' is 'onnx', expected 'tinyptq-model')"),
                f.getMessage());
    }

    @Test
    void encodingsFollowEquationTwo() {
        QuantizedModel qm = quantized(TinyModels.convNet(2));
        JsonNode enc = Encodings.toJson(qm);
        JsonNode conv = enc.at("/param_encodings/conv.w");
        assertEquals(8, conv.size());
        assertEquals("True", conv.at("/1/is_symmetric").asText());
        assertEquals(0.06f, (float) conv.at("/1/scale").asDouble(), 1e-7);
        assertEquals(-8 * 0.06f, (float) conv.at("/1/min").asDouble(), 1e-6);
        JsonNode image = enc.at("/activation_encodings/c1/0"); // a layer input: 6 bits (the model input keeps 8)
        float s = (float) image.path("scale").asDouble();
        float offset = (float) image.path("offset").asDouble();
        assertEquals(6, image.path("bitwidth").asInt());
        assertEquals(s * offset, (float) image.path("min").asDouble(), 1e-6);
        assertEquals(s * (63 + offset), (float) image.path("max").asDouble(), 1e-5);
    }
}
