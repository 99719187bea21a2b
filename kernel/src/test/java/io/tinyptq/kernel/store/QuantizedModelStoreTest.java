package io.tinyptq.kernel.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
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
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class QuantizedModelStoreTest {

    static QuantizedModel quantized(Model m) {
        QuantizedModel qm = QuantizedModel.simulate(m, QuantScheme.of(4, 6));
        for (Quantizer q : qm.weightQuantizers().values()) {
            int c = m.constant(((io.tinyptq.api.model.Op.Layer) m.op(q.target())).weight())
                    .shape()
                    .dim(q.spec().channelAxis());
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
        for (Model m :
                java.util.List.of(TinyModels.convNet(2), TinyModels.sequenceNet(3), TinyModels.unbalancedChain(4))) {
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
        var digest = assertThrows(InvalidModelException.class, () -> QuantizedModelStore.load(dir));
        assertTrue(digest.getMessage().contains("holds files of two different writes"), digest.getMessage());
        // A store written before model.json carried the digest: the sizes still catch the truncation.
        Path json = dir.resolve(QuantizedModelStore.MODEL_JSON);
        ObjectNode root = (ObjectNode) MAPPER.readTree(json.toFile());
        root.remove(QuantizedModelStore.CONSTANTS_DIGEST);
        MAPPER.writeValue(json.toFile(), root);
        var e = assertThrows(InvalidModelException.class, () -> QuantizedModelStore.load(dir));
        assertTrue(e.getMessage().contains("(truncated file?)"), e.getMessage());
        Files.writeString(dir.resolve(QuantizedModelStore.MODEL_JSON), "{\"format\": \"onnx\"}");
        var f = assertThrows(InvalidModelException.class, () -> QuantizedModelStore.load(dir));
        assertTrue(
                f.getMessage().endsWith("not a tinyptq model (field 'format' is 'onnx', expected 'tinyptq-model')"),
                f.getMessage());
    }

    /**
     * A write killed between constants.bin and model.json leaves the new constants beside the old model.json (the
     * issue this guards: old quantizers over new weights loaded silently). The digest in model.json refuses that mix.
     */
    @Test
    void constantsOfAnotherWriteAreRefused(@TempDir Path dir) throws Exception {
        Model m = TinyModels.mlp(1, 4, 5, 2);
        Path first = dir.resolve("first");
        Path second = dir.resolve("second");
        QuantizedModelStore.save(m, quantized(m), first);
        Model other = TinyModels.mlp(2, 4, 5, 2);
        QuantizedModelStore.save(other, quantized(other), second);
        Files.copy(
                second.resolve(QuantizedModelStore.CONSTANTS_BIN),
                first.resolve(QuantizedModelStore.CONSTANTS_BIN),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        String message = assertThrows(InvalidModelException.class, () -> QuantizedModelStore.load(first))
                .getMessage();
        assertTrue(
                message.startsWith(first.resolve(QuantizedModelStore.CONSTANTS_BIN) + ": its SHA-256 is ")
                        && message.contains("holds files of two different writes"),
                message);
        // Saving again over the mixed folder repairs it, and leaves no temporary file behind.
        QuantizedModelStore.save(m, quantized(m), first);
        assertEquals(
                m.constants().keySet(),
                QuantizedModelStore.load(first).model().constants().keySet());
        try (var files = Files.list(first)) {
            assertEquals(
                    java.util.List.of(QuantizedModelStore.CONSTANTS_BIN, QuantizedModelStore.MODEL_JSON),
                    files.map(p -> p.getFileName().toString()).sorted().toList());
        }
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

    // ---- damaged stores: one InvalidModelException naming the file, the object and field, and what was expected --

    static final ObjectMapper MAPPER = new ObjectMapper();

    /**
     * Saves the quantized MLP (fc1: weight [5,4], fc2: weight [2,5]) into {@code dir}, lets {@code edit} damage its
     * model.json, and returns the message of the load's failure, which must be an InvalidModelException: anything
     * else (NullPointerException, IndexOutOfBounds, a bare IllegalArgumentException) would not say where.
     */
    static String loadError(Path dir, Consumer<ObjectNode> edit) throws IOException {
        Model m = TinyModels.mlp(1, 4, 5, 2);
        QuantizedModelStore.save(m, quantized(m), dir);
        Path json = dir.resolve(QuantizedModelStore.MODEL_JSON);
        ObjectNode root = (ObjectNode) MAPPER.readTree(json.toFile());
        edit.accept(root);
        MAPPER.writeValue(json.toFile(), root);
        return assertThrows(InvalidModelException.class, () -> QuantizedModelStore.load(dir))
                .getMessage();
    }

    static ObjectNode op(ObjectNode root, int i) {
        return (ObjectNode) root.withArray("ops").get(i);
    }

    static ObjectNode constant(ObjectNode root, String name) {
        for (JsonNode c : root.withArray("constants")) {
            if (c.path("name").asText().equals(name)) {
                return (ObjectNode) c;
            }
        }
        throw new AssertionError("no constant " + name);
    }

    static ObjectNode weightQuantizer(ObjectNode root, String layer) {
        return (ObjectNode) root.path("quantization").path("weights").path(layer);
    }

    static void assertMessage(String message, Path file, String... parts) {
        assertTrue(message.startsWith(file + ": "), "names " + file + ": " + message);
        for (String p : parts) {
            assertTrue(message.contains(p), "'" + p + "' in: " + message);
        }
    }

    @Test
    void anUnknownOpTypeNamesTheLayerAndTheKnownOps(@TempDir Path dir) throws Exception {
        String e = loadError(dir, root -> op(root, 1).put("op", "Conv3D"));
        assertMessage(
                e,
                dir.resolve("model.json"),
                "layer 'fc2'",
                "field 'op' is \"Conv3D\"",
                "expected one of [Act, Add, ",
                "FullyConnected");
    }

    @Test
    void aMissingOrNullAttributeNamesTheLayerAndTheField(@TempDir Path dir) throws Exception {
        String missing = loadError(dir.resolve("missing"), root -> op(root, 1).remove("weight"));
        assertMessage(
                missing,
                dir.resolve("missing/model.json"),
                "layer 'fc2' (FullyConnected): field 'weight' is" + " missing, expected a string");
        // Only a string attribute such as a bias may be null; a null activation would otherwise reach the op.
        String nulled = loadError(dir.resolve("null"), root -> op(root, 0).putNull("activation"));
        assertMessage(
                nulled,
                dir.resolve("null/model.json"),
                "layer 'fc1' (FullyConnected): field 'activation' is" + " null, expected one of [none, relu, relu6]");
        String missingOffset =
                loadError(dir.resolve("offset"), root -> constant(root, "fc2.w").remove("offset"));
        assertMessage(missingOffset, dir.resolve("offset/model.json"), "constant 'fc2.w': field 'offset' is missing");
        String missingBits = loadError(
                dir.resolve("bits"), root -> weightQuantizer(root, "fc2").remove("bits"));
        assertMessage(
                missingBits,
                dir.resolve("bits/model.json"),
                "weight quantizer of 'fc2': field 'bits' is" + " missing, expected an integer from 1 to 16");
    }

    @Test
    void badEnumValuesListTheValidOnes(@TempDir Path dir) throws Exception {
        String activation = loadError(dir.resolve("act"), root -> op(root, 0).put("activation", "gelu"));
        assertMessage(
                activation,
                dir.resolve("act/model.json"),
                "layer 'fc1' (FullyConnected): field 'activation'"
                        + " is \"gelu\", expected one of [none, relu, relu6]");
        String symmetry = loadError(
                dir.resolve("sym"), root -> weightQuantizer(root, "fc1").put("symmetry", "skewed"));
        assertMessage(
                symmetry,
                dir.resolve("sym/model.json"),
                "weight quantizer of 'fc1': field 'symmetry' is"
                        + " \"skewed\", expected one of [symmetric, asymmetric]");
        String granularity = loadError(
                dir.resolve("gran"),
                root -> root.with("quantization").with("activations").with("h").put("granularity", 3));
        assertMessage(
                granularity,
                dir.resolve("gran/model.json"),
                "activation quantizer of 'h': field 'granularity'"
                        + " is 3, expected one of [per_tensor, per_channel]");
    }

    @Test
    void constantOffsetsOutsideConstantsBinAreRefused(@TempDir Path dir) throws Exception {
        // constants.bin holds 20 + 5 + 10 + 2 = 37 floats: fc1.w, fc1.b, fc2.w, fc2.b.
        String negative =
                loadError(dir.resolve("neg"), root -> constant(root, "fc2.w").put("offset", -4));
        assertMessage(
                negative,
                dir.resolve("neg/model.json"),
                "constant 'fc2.w': field 'offset' is -4, expected an" + " integer >= 0");
        String past =
                loadError(dir.resolve("past"), root -> constant(root, "fc2.w").put("offset", 30));
        assertMessage(
                past,
                dir.resolve("past/constants.bin"),
                "holds 148 bytes (37 floats)",
                "constant 'fc2.w'",
                "shape [2,5] at offset 30 needs floats 30 to 39",
                "(truncated file?)");
        // Far beyond any file: the byte count must not overflow into a negative and pass the bounds check.
        String huge =
                loadError(dir.resolve("huge"), root -> constant(root, "fc1.b").put("offset", Long.MAX_VALUE / 2));
        assertMessage(huge, dir.resolve("huge/constants.bin"), "constant 'fc1.b'", "(truncated file?)");
        String text =
                loadError(dir.resolve("text"), root -> constant(root, "fc1.b").put("offset", "20"));
        assertMessage(text, dir.resolve("text/model.json"), "field 'offset' is \"20\", expected an integer >= 0");
    }

    @Test
    void negativeOrHugeShapesAreRefused(@TempDir Path dir) throws Exception {
        String negative = loadError(dir.resolve("neg"), root -> dims(constant(root, "fc1.w"), 5, -4));
        assertMessage(
                negative,
                dir.resolve("neg/model.json"),
                "constant 'fc1.w': field 'shape' is [5,-4], expected" + " positive integer dimensions");
        String input = loadError(
                dir.resolve("input"),
                root -> dims((ObjectNode) root.withArray("inputs").get(0), 0));
        assertMessage(input, dir.resolve("input/model.json"), "input 'x': field 'shape' is [0]");
        // More elements than a Java array holds: refused before anything is allocated.
        String overflow = loadError(dir.resolve("overflow"), root -> dims(constant(root, "fc1.w"), 100_000, 100_000));
        assertMessage(
                overflow,
                dir.resolve("overflow/model.json"),
                "constant 'fc1.w': field 'shape' is" + " [100000,100000]",
                "at most 2147483647 elements");
        // Fits an array but not the file: named as a constant past the end, not an OutOfMemoryError.
        String big = loadError(dir.resolve("big"), root -> dims(constant(root, "fc2.b"), 50_000, 40_000));
        assertMessage(
                big,
                dir.resolve("big/constants.bin"),
                "constant 'fc2.b' of shape [50000,40000] at offset 35",
                "(truncated file?)");
        // An op's shape attribute goes through the same check.
        Model m = TinyModels.convNet(2);
        Path conv = dir.resolve("conv");
        QuantizedModelStore.save(m, null, conv);
        Path json = conv.resolve(QuantizedModelStore.MODEL_JSON);
        ObjectNode root = (ObjectNode) MAPPER.readTree(json.toFile());
        for (JsonNode op : root.withArray("ops")) {
            if (op.path("op").asText().equals("Reshape")) {
                dims((ObjectNode) op, -16);
            }
        }
        MAPPER.writeValue(json.toFile(), root);
        String reshape = assertThrows(InvalidModelException.class, () -> QuantizedModelStore.load(conv))
                .getMessage();
        assertMessage(
                reshape,
                json,
                "layer 'flatten' (Reshape): field 'shape' is [-16], expected positive integer" + " dimensions");
    }

    static void dims(ObjectNode node, int... dims) {
        ArrayNode a = node.putArray("shape");
        for (int d : dims) {
            a.add(d);
        }
    }

    @Test
    void zeroOrNegativeScalesAreRefused(@TempDir Path dir) throws Exception {
        String zero = loadError(
                dir.resolve("zero"),
                root -> ((ArrayNode) weightQuantizer(root, "fc1").get("scale")).set(2, 0.0));
        assertMessage(
                zero,
                dir.resolve("zero/model.json"),
                "weight quantizer of 'fc1': field 'scale' is [",
                "expected finite values > 0 (channel 2 is 0.0)");
        String negative = loadError(
                dir.resolve("neg"),
                root -> root.with("quantization")
                        .with("activations")
                        .with("h")
                        .putArray("scale")
                        .add(-0.5));
        assertMessage(
                negative,
                dir.resolve("neg/model.json"),
                "activation quantizer of 'h': field 'scale' is [-0.5],"
                        + " expected finite values > 0 (channel 0 is -0.5)");
    }

    @Test
    void quantizerParametersMustFitTheirLayer(@TempDir Path dir) throws Exception {
        // fc1 has 5 output channels; 3 scales would be read past their end by a per-channel kernel.
        String channels = loadError(dir.resolve("channels"), root -> {
            ObjectNode q = weightQuantizer(root, "fc1");
            q.putArray("scale").add(0.1).add(0.1).add(0.1);
            q.putArray("zero_point").add(0).add(0).add(0);
        });
        assertMessage(
                channels,
                dir.resolve("channels/model.json"),
                "weight quantizer of 'fc1': field 'scale' has 3"
                        + " values, expected 5 (one per channel: axis 0 of shape [5,4])");
        String zeroPoints = loadError(
                dir.resolve("zp"),
                root -> ((ArrayNode) weightQuantizer(root, "fc1").get("zero_point")).remove(0));
        assertMessage(
                zeroPoints,
                dir.resolve("zp/model.json"),
                "weight quantizer of 'fc1': field 'zero_point' has 4" + " values, expected 5");
        String unknown = loadError(
                dir.resolve("unknown"),
                root -> root.with("quantization")
                        .with("weights")
                        .set("fc9", weightQuantizer(root, "fc1").deepCopy()));
        assertMessage(
                unknown,
                dir.resolve("unknown/model.json"),
                "quantization.weights names 'fc9'",
                "layers with weights are [fc1, fc2]");
    }

    @Test
    void missingFilesAreNamed(@TempDir Path dir) throws Exception {
        Model m = TinyModels.mlp(1, 4, 5, 2);
        QuantizedModelStore.save(m, quantized(m), dir);
        Files.delete(dir.resolve(QuantizedModelStore.CONSTANTS_BIN));
        var bin = assertThrows(InvalidModelException.class, () -> QuantizedModelStore.load(dir));
        assertEquals(
                dir.resolve("constants.bin") + ": missing; model.json lists 4 constants stored in it",
                bin.getMessage());
        Files.delete(dir.resolve(QuantizedModelStore.MODEL_JSON));
        var json = assertThrows(InvalidModelException.class, () -> QuantizedModelStore.load(dir));
        assertEquals(
                dir.resolve("model.json") + ": missing; a stored model is a folder holding model.json and"
                        + " constants.bin",
                json.getMessage());
        Files.writeString(dir.resolve(QuantizedModelStore.MODEL_JSON), "{\"format\": \"tinyptq-model\", ");
        var syntax = assertThrows(InvalidModelException.class, () -> QuantizedModelStore.load(dir));
        assertMessage(syntax.getMessage(), dir.resolve("model.json"), "not valid JSON");
    }
}
