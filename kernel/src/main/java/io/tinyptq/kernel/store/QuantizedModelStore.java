package io.tinyptq.kernel.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tinyptq.api.InvalidModelException;
import io.tinyptq.api.TinyPtqException;
import io.tinyptq.api.model.Model;
import io.tinyptq.api.model.Op;
import io.tinyptq.api.model.Padding;
import io.tinyptq.api.model.Shape;
import io.tinyptq.api.model.Tensor;
import io.tinyptq.api.quant.Granularity;
import io.tinyptq.api.quant.QuantParams;
import io.tinyptq.api.quant.QuantScheme;
import io.tinyptq.api.quant.QuantTarget;
import io.tinyptq.api.quant.QuantizedModel;
import io.tinyptq.api.quant.Quantizer;
import io.tinyptq.api.quant.QuantizerSpec;
import io.tinyptq.api.quant.Symmetry;
import java.io.IOException;
import java.lang.reflect.RecordComponent;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

/**
 * tinyptq's own model format: a directory holding {@code model.json} (the graph, every op with its attributes,
 * the constants' shapes and offsets, and the quantizers with their parameters) and {@code constants.bin}
 * (float32, little-endian, back to back). It stores a quantized model exactly as the pipeline left it (float
 * weights, which optimization may have moved onto the grid, plus quantizer parameters), so that evaluation can
 * reload it and reproduce the run's accuracy bit for bit.
 *
 * <p>Ops are written generically from their record components, so a new op record needs no change here.
 */
public final class QuantizedModelStore {
    public static final String MODEL_JSON = "model.json";
    public static final String CONSTANTS_BIN = "constants.bin";
    /** The model.json field holding the SHA-256 of constants.bin (hex), checked on load when present. */
    static final String CONSTANTS_DIGEST = "constants_sha256";

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final Map<String, Class<?>> OPS = new HashMap<>();

    static {
        for (Class<?> c : Op.class.getPermittedSubclasses()) {
            if (c.isRecord()) {
                OPS.put(c.getSimpleName(), c);
            } else {
                for (Class<?> inner : c.getPermittedSubclasses()) {
                    OPS.put(inner.getSimpleName(), inner);
                }
            }
        }
    }

    private QuantizedModelStore() {}

    /** True when {@code dir} looks like a stored model. */
    public static boolean isStore(Path dir) {
        return Files.isDirectory(dir) && Files.isRegularFile(dir.resolve(MODEL_JSON));
    }

    /** Writes {@code model} (and its quantizers when {@code quantized} is non-null) into {@code dir}. */
    public static void save(Model model, QuantizedModel quantized, Path dir) {
        try {
            Files.createDirectories(dir);
            ObjectNode root = JSON.createObjectNode();
            root.put("format", "tinyptq-model");
            root.put("version", 1);
            root.put("name", model.name());
            ArrayNode inputs = root.putArray("inputs");
            model.inputs().forEach((n, s) -> {
                ObjectNode in = inputs.addObject().put("name", n);
                dims(in.putArray("shape"), s.dims());
            });
            ArrayNode outputs = root.putArray("outputs");
            model.outputs().forEach(outputs::add);
            ArrayNode ops = root.putArray("ops");
            for (Op op : model.ops()) {
                ops.add(opNode(op));
            }
            ArrayNode constants = root.putArray("constants");
            long offset = 0;
            for (var e : model.constants().entrySet()) {
                ObjectNode c = constants.addObject().put("name", e.getKey());
                dims(c.putArray("shape"), e.getValue().shape().dims());
                c.put("offset", offset);
                offset += e.getValue().data().length;
            }
            ByteBuffer buf = ByteBuffer.allocate(Math.toIntExact(offset * 4)).order(ByteOrder.LITTLE_ENDIAN);
            for (Tensor t : model.constants().values()) {
                for (float v : t.data()) {
                    buf.putFloat(v);
                }
            }
            if (quantized != null) {
                ObjectNode q = root.putObject("quantization");
                q.put("target", quantized.scheme().target().name().toLowerCase(Locale.ROOT));
                ObjectNode w = q.putObject("weights");
                quantized.weightQuantizers().forEach((layer, qz) -> w.set(layer, quantizerNode(qz)));
                ObjectNode a = q.putObject("activations");
                quantized.activationQuantizers().forEach((tensor, qz) -> a.set(tensor, quantizerNode(qz)));
            }
            // constants.bin first, then model.json naming its digest: a write killed between the two leaves a
            // model.json that refuses the new constants, never a model mixing old quantizers with new weights.
            root.put(CONSTANTS_DIGEST, sha256(buf.array()));
            AtomicFiles.write(dir.resolve(CONSTANTS_BIN), buf.array());
            AtomicFiles.write(dir.resolve(MODEL_JSON), out -> JSON.writeValue(out, root));
        } catch (IOException e) {
            throw new TinyPtqException("cannot write model to " + dir + ": " + e.getMessage(), e);
        }
    }

    /** A stored model and its quantizers ({@code quantized} is null for a float model). */
    public record Stored(Model model, QuantizedModel quantized) {}

    /**
     * Reads a stored model. Every field is checked as it is read: a damaged or hand-edited store fails with one
     * {@link InvalidModelException} naming the file, the layer, constant or quantizer, the field and what was
     * expected, before anything is sized from it.
     */
    public static Stored load(Path dir) {
        Path folder = dir.toAbsolutePath().normalize().getParent();
        if (folder != null
                && dir.toAbsolutePath().normalize().getFileName().toString().equals(ResultsFolder.MODEL)
                && ResultsFolder.isResultsFolder(folder)) {
            // The model of a run's results: loaded only when the folder holds that one run's files, whole.
            ResultsFolder.check(folder);
        }
        Path json = dir.resolve(MODEL_JSON);
        Path bin = dir.resolve(CONSTANTS_BIN);
        if (!Files.isRegularFile(json)) {
            throw new InvalidModelException(
                    json + ": missing; a stored model is a folder holding " + MODEL_JSON + " and " + CONSTANTS_BIN);
        }
        JsonNode root;
        try {
            root = JSON.readTree(json.toFile());
        } catch (JsonProcessingException e) {
            throw new InvalidModelException(json + ": not valid JSON: " + e.getOriginalMessage()
                    + (e.getLocation() == null
                            ? ""
                            : " (line " + e.getLocation().getLineNr() + ", column "
                                    + e.getLocation().getColumnNr() + ")"));
        } catch (IOException e) {
            throw new InvalidModelException("cannot read " + json + ": " + e.getMessage());
        }
        if (!"tinyptq-model".equals(root.path("format").asText())) {
            throw new InvalidModelException(json + ": not a tinyptq model (field 'format' is '"
                    + root.path("format").asText() + "', expected 'tinyptq-model')");
        }
        Fields top = new Fields(json, "", root, "");
        if (!Files.isRegularFile(bin)) {
            throw new InvalidModelException(bin + ": missing; " + MODEL_JSON + " lists "
                    + top.array("constants").size() + " constants stored in it");
        }
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(bin);
        } catch (IOException e) {
            throw new InvalidModelException("cannot read " + bin + ": " + e.getMessage());
        }
        if (root.has(CONSTANTS_DIGEST) && !root.get(CONSTANTS_DIGEST).asText().equals(sha256(bytes))) {
            throw new InvalidModelException(bin + ": its SHA-256 is " + sha256(bytes) + ", but " + json
                    + " was written with constants whose SHA-256 is "
                    + root.get(CONSTANTS_DIGEST).asText()
                    + ": the folder holds files of two different writes (one killed half way?); write the model"
                    + " again");
        }
        FloatBuffer floats =
                ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        Model.Builder b = Model.builder(top.text("name"));
        JsonNode inputs = top.array("inputs");
        for (int i = 0; i < inputs.size(); i++) {
            String name = new Fields(json, "inputs[" + i + "]", inputs.get(i), "").text("name");
            b.input(name, new Fields(json, "input '" + name + "'", inputs.get(i), "").shape("shape"));
        }
        JsonNode constants = top.array("constants");
        for (int i = 0; i < constants.size(); i++) {
            String name = new Fields(json, "constants[" + i + "]", constants.get(i), "").text("name");
            Fields c = new Fields(json, "constant '" + name + "'", constants.get(i), "");
            Shape shape = c.shape("shape");
            long offset = c.offset("offset");
            // Compared without adding to the offset, which may be anything up to Long.MAX_VALUE.
            if (offset > floats.capacity() - (long) shape.size()) {
                throw new InvalidModelException(bin + ": holds " + bytes.length + " bytes (" + floats.capacity()
                        + " floats); constant '" + name + "' of shape " + shape + " at offset " + offset
                        + " needs floats " + offset + " to " + (offset + shape.size() - 1) + " (truncated file?)");
            }
            float[] v = new float[shape.size()];
            floats.get((int) offset, v);
            b.constant(name, new Tensor(shape, v));
        }
        JsonNode ops = top.array("ops");
        for (int i = 0; i < ops.size(); i++) {
            b.op(op(json, i, ops.get(i)));
        }
        JsonNode outputs = top.array("outputs");
        for (int i = 0; i < outputs.size(); i++) {
            if (!outputs.get(i).isTextual()) {
                throw top.bad("outputs", outputs, "an array of tensor names");
            }
            b.output(outputs.get(i).asText());
        }
        Model model;
        try {
            model = b.build();
        } catch (InvalidModelException | IllegalArgumentException e) {
            throw new InvalidModelException(json + ": " + e.getMessage());
        }
        if (!root.has("quantization")) {
            return new Stored(model, null);
        }
        Fields q = new Fields(json, "", top.object("quantization"), "quantization.");
        Map<String, Shape> weightShapes = new LinkedHashMap<>();
        model.layers()
                .forEach(l ->
                        weightShapes.put(l.name(), model.constant(l.weight()).shape()));
        Map<String, Quantizer> weights = quantizers(
                json,
                q,
                "weights",
                "weight quantizer",
                weightShapes,
                "a layer with weights; the model's layers with weights are " + weightShapes.keySet());
        Map<String, Quantizer> acts = quantizers(
                json,
                q,
                "activations",
                "activation quantizer",
                model.activationShapes(),
                "an activation tensor of the model");
        // Models stored before targets existed have no key: they were quantized for the paper's placement.
        QuantTarget target = q.node.has("target") ? q.choice("target", QuantTarget.class) : QuantTarget.SIMULATED;
        try {
            return new Stored(model, QuantizedModel.of(model, QuantScheme.DEFAULTS.withTarget(target), weights, acts));
        } catch (IllegalArgumentException e) {
            throw new InvalidModelException(json + ": quantization: " + e.getMessage());
        }
    }

    /** The quantizers under {@code quantization.KEY}, each checked against the shape of the tensor it quantizes. */
    private static Map<String, Quantizer> quantizers(
            Path file, Fields q, String key, String what, Map<String, Shape> targets, String expected) {
        Map<String, Quantizer> out = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : q.object(key).properties()) {
            String target = e.getKey();
            Shape shape = targets.get(target);
            if (shape == null) {
                throw new InvalidModelException(
                        file + ": quantization." + key + " names '" + target + "', which is not " + expected);
            }
            Fields f = new Fields(file, what + " of '" + target + "'", e.getValue(), "");
            Granularity granularity = f.choice("granularity", Granularity.class);
            int bits = f.integer("bits", 1, 16);
            Symmetry symmetry = f.choice("symmetry", Symmetry.class);
            boolean narrow = f.flag("narrow");
            if (narrow && (symmetry != Symmetry.SYMMETRIC || bits < 2)) {
                throw f.bad("narrow", "is true", "false for an asymmetric or 1-bit quantizer");
            }
            QuantizerSpec spec = new QuantizerSpec(
                    bits,
                    symmetry,
                    granularity,
                    granularity == Granularity.PER_CHANNEL
                            ? f.integer("axis", 0, shape.rank() - 1)
                            : f.integer("axis", Integer.MIN_VALUE, Integer.MAX_VALUE),
                    narrow);
            // A per-channel kernel indexes the scales by channel: their count must be the tensor's along the axis.
            int channels = granularity == Granularity.PER_CHANNEL ? shape.dim(spec.channelAxis()) : 1;
            float[] scale = f.floats("scale");
            if (scale.length != channels) {
                throw f.bad(
                        "scale",
                        "has " + scale.length + " values",
                        channels
                                + (granularity == Granularity.PER_CHANNEL
                                        ? " (one per channel: axis " + spec.channelAxis() + " of shape " + shape + ")"
                                        : " (per tensor)"));
            }
            for (int c = 0; c < scale.length; c++) {
                if (!(scale[c] > 0f) || !Float.isFinite(scale[c])) {
                    throw f.bad(
                            "scale",
                            "is " + Fields.show(e.getValue().path("scale")),
                            "finite values > 0 (channel " + c + " is " + scale[c] + ")");
                }
            }
            float[] zero = f.floats("zero_point");
            if (zero.length != channels) {
                throw f.bad("zero_point", "has " + zero.length + " values", channels + " (one per scale)");
            }
            for (int c = 0; c < zero.length; c++) {
                if (!Float.isFinite(zero[c])) {
                    throw f.bad(
                            "zero_point",
                            "is " + Fields.show(e.getValue().path("zero_point")),
                            "finite values (channel " + c + " is " + zero[c] + ")");
                }
            }
            Quantizer quantizer = new Quantizer(target, spec);
            quantizer.setParams(new QuantParams(scale, zero));
            out.put(target, quantizer);
        }
        return out;
    }

    /**
     * Reads the fields of one object of model.json ({@code where} names it: a layer, constant or quantizer; field
     * names are shown with {@code prefix}); a bad field fails naming the file, the object, the field, what it
     * holds and what was expected.
     */
    private record Fields(Path file, String where, JsonNode node, String prefix) {
        InvalidModelException bad(String field, String found, String expected) {
            return new InvalidModelException(file + ": " + (where.isEmpty() ? "" : where + ": ") + "field '" + prefix
                    + field + "' " + found + ", expected " + expected);
        }

        InvalidModelException bad(String field, JsonNode value, String expected) {
            return bad(field, "is " + show(value), expected);
        }

        /** The value as it appears in the file, cut short; "missing" when absent. */
        static String show(JsonNode v) {
            String s = v.isMissingNode() ? "missing" : v.toString();
            return s.length() > 80 ? s.substring(0, 77) + "..." : s;
        }

        JsonNode array(String field) {
            JsonNode v = node.path(field);
            if (!v.isArray()) {
                throw bad(field, v, "an array");
            }
            return v;
        }

        JsonNode object(String field) {
            JsonNode v = node.path(field);
            if (!v.isObject()) {
                throw bad(field, v, "an object");
            }
            return v;
        }

        String text(String field) {
            JsonNode v = node.path(field);
            if (!v.isTextual()) {
                throw bad(field, v, "a string");
            }
            return v.asText();
        }

        /** An optional boolean, false when absent. */
        boolean flag(String field) {
            JsonNode v = node.path(field);
            if (v.isMissingNode()) {
                return false;
            }
            if (!v.isBoolean()) {
                throw bad(field, v, "true or false");
            }
            return v.booleanValue();
        }

        int integer(String field, int min, int max) {
            JsonNode v = node.path(field);
            if (!v.isIntegralNumber() || !v.canConvertToInt() || v.intValue() < min || v.intValue() > max) {
                throw bad(
                        field,
                        v,
                        min == Integer.MIN_VALUE
                                ? "an integer"
                                : max == Integer.MAX_VALUE
                                        ? "an integer >= " + min
                                        : "an integer from " + min + " to " + max);
            }
            return v.intValue();
        }

        /** A position in constants.bin, counted in floats. */
        long offset(String field) {
            JsonNode v = node.path(field);
            if (!v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < 0) {
                throw bad(field, v, "an integer >= 0");
            }
            return v.longValue();
        }

        float number(String field) {
            JsonNode v = node.path(field);
            if (!v.isNumber()) {
                throw bad(field, v, "a number");
            }
            return (float) v.asDouble();
        }

        /** Positive dimensions whose product an array can hold, so nothing is sized from a bad shape. */
        Shape shape(String field) {
            JsonNode v = node.path(field);
            String expected = "positive integer dimensions, at most " + Integer.MAX_VALUE + " elements in all";
            if (!v.isArray()) {
                throw bad(field, v, expected);
            }
            int[] dims = new int[v.size()];
            long size = 1;
            for (int i = 0; i < dims.length; i++) {
                JsonNode d = v.get(i);
                if (!d.isIntegralNumber() || !d.canConvertToInt() || d.intValue() <= 0) {
                    throw bad(field, v, expected);
                }
                dims[i] = d.intValue();
                size *= dims[i];
                if (size > Integer.MAX_VALUE) {
                    throw bad(field, v, expected);
                }
            }
            return Shape.of(dims);
        }

        int[] ints(String field) {
            JsonNode v = node.path(field);
            if (!v.isArray()) {
                throw bad(field, v, "an array of integers");
            }
            int[] out = new int[v.size()];
            for (int i = 0; i < out.length; i++) {
                if (!v.get(i).isIntegralNumber() || !v.get(i).canConvertToInt()) {
                    throw bad(field, v, "an array of integers");
                }
                out[i] = v.get(i).intValue();
            }
            return out;
        }

        float[] floats(String field) {
            JsonNode v = node.path(field);
            if (!v.isArray()) {
                throw bad(field, v, "an array of numbers");
            }
            float[] out = new float[v.size()];
            for (int i = 0; i < out.length; i++) {
                if (!v.get(i).isNumber()) {
                    throw bad(field, v, "an array of numbers");
                }
                out[i] = (float) v.get(i).asDouble();
            }
            return out;
        }

        /** An enum constant, written lower case; the expectation lists them. */
        <E extends Enum<E>> E choice(String field, Class<E> type) {
            JsonNode v = node.path(field);
            for (E e : type.getEnumConstants()) {
                if (v.isTextual() && e.name().equalsIgnoreCase(v.asText())) {
                    return e;
                }
            }
            throw bad(
                    field,
                    v,
                    "one of "
                            + Arrays.stream(type.getEnumConstants())
                                    .map(e -> e.name().toLowerCase(Locale.ROOT))
                                    .toList());
        }
    }

    private static ObjectNode quantizerNode(Quantizer q) {
        ObjectNode n = JSON.createObjectNode();
        n.put("bits", q.spec().bits());
        n.put("symmetry", q.spec().symmetry().name().toLowerCase(Locale.ROOT));
        n.put("granularity", q.spec().granularity().name().toLowerCase(Locale.ROOT));
        n.put("axis", q.spec().channelAxis());
        if (q.spec().narrow()) {
            n.put("narrow", true);
        }
        ArrayNode s = n.putArray("scale");
        ArrayNode z = n.putArray("zero_point");
        for (float v : q.params().scale()) {
            s.add(v);
        }
        for (float v : q.params().zeroPoint()) {
            z.add(v);
        }
        return n;
    }

    private static ObjectNode opNode(Op op) {
        ObjectNode n = JSON.createObjectNode();
        n.put("op", op.getClass().getSimpleName());
        for (RecordComponent c : op.getClass().getRecordComponents()) {
            Object v;
            try {
                v = c.getAccessor().invoke(op);
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(e);
            }
            String key = c.getName();
            switch (v) {
                case null -> n.putNull(key);
                case String s -> n.put(key, s);
                case Integer i -> n.put(key, i);
                case Float f -> n.put(key, f);
                case Enum<?> e -> n.put(key, e.name().toLowerCase(Locale.ROOT));
                case Shape s -> dims(n.putArray(key), s.dims());
                case int[] a -> dims(n.putArray(key), a);
                case Padding p ->
                    n.putObject(key)
                            .put("kind", p.kind().name().toLowerCase(Locale.ROOT))
                            .put("top", p.top())
                            .put("bottom", p.bottom())
                            .put("left", p.left())
                            .put("right", p.right());
                default -> throw new IllegalStateException("op attribute type " + v.getClass() + " of " + op.name());
            }
        }
        return n;
    }

    /** The op {@code ops[index]}: its type, then each record component read by its Java type. */
    @SuppressWarnings({"unchecked", "rawtypes"})
    private static Op op(Path file, int index, JsonNode n) {
        String name = new Fields(file, "ops[" + index + "]", n, "").text("name");
        Fields layer = new Fields(file, "layer '" + name + "'", n, "");
        JsonNode type = n.path("op");
        Class<?> c = type.isTextual() ? OPS.get(type.asText()) : null;
        if (c == null) {
            throw layer.bad("op", type, "one of " + new TreeSet<>(OPS.keySet()));
        }
        Fields f = new Fields(file, "layer '" + name + "' (" + c.getSimpleName() + ")", n, "");
        RecordComponent[] rc = c.getRecordComponents();
        Object[] args = new Object[rc.length];
        Class<?>[] types = new Class<?>[rc.length];
        for (int i = 0; i < rc.length; i++) {
            Class<?> t = rc[i].getType();
            String key = rc[i].getName();
            types[i] = t;
            if (t == String.class) {
                // Only a tensor name may be null (a layer without bias); the op's constructor says which.
                args[i] = n.path(key).isNull() ? null : f.text(key);
            } else if (t == int.class) {
                args[i] = f.integer(key, Integer.MIN_VALUE, Integer.MAX_VALUE);
            } else if (t == float.class) {
                args[i] = f.number(key);
            } else if (t.isEnum()) {
                args[i] = f.choice(key, (Class) t);
            } else if (t == Shape.class) {
                args[i] = f.shape(key);
            } else if (t == int[].class) {
                args[i] = f.ints(key);
            } else if (t == Padding.class) {
                Fields p = new Fields(file, f.where(), f.object(key), key + ".");
                args[i] = new Padding(
                        p.choice("kind", Padding.Kind.class),
                        p.integer("top", 0, Integer.MAX_VALUE),
                        p.integer("bottom", 0, Integer.MAX_VALUE),
                        p.integer("left", 0, Integer.MAX_VALUE),
                        p.integer("right", 0, Integer.MAX_VALUE));
            } else {
                throw new IllegalStateException("op attribute type " + t);
            }
        }
        try {
            return (Op) c.getDeclaredConstructor(types).newInstance(args);
        } catch (ReflectiveOperationException e) {
            throw new InvalidModelException(file + ": " + f.where() + ": "
                    + (e.getCause() == null ? e.getMessage() : e.getCause().getMessage()));
        }
    }

    private static void dims(ArrayNode a, int[] dims) {
        for (int d : dims) {
            a.add(d);
        }
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }
}
