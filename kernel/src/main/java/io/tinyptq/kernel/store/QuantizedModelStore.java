package io.tinyptq.kernel.store;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tinyptq.api.InvalidModelException;
import io.tinyptq.api.model.Activation;
import io.tinyptq.api.model.Model;
import io.tinyptq.api.model.Op;
import io.tinyptq.api.model.Padding;
import io.tinyptq.api.model.Shape;
import io.tinyptq.api.model.Tensor;
import io.tinyptq.api.quant.Granularity;
import io.tinyptq.api.quant.QuantParams;
import io.tinyptq.api.quant.QuantScheme;
import io.tinyptq.api.quant.QuantizedModel;
import io.tinyptq.api.quant.Quantizer;
import io.tinyptq.api.quant.Symmetry;
import java.io.IOException;
import java.lang.reflect.RecordComponent;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

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

    private QuantizedModelStore() {
    }

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
                ObjectNode w = q.putObject("weights");
                quantized.weightQuantizers().forEach((layer, qz) -> w.set(layer, quantizerNode(qz)));
                ObjectNode a = q.putObject("activations");
                quantized.activationQuantizers().forEach((tensor, qz) -> a.set(tensor, quantizerNode(qz)));
            }
            Files.write(dir.resolve(CONSTANTS_BIN), buf.array());
            JSON.writeValue(dir.resolve(MODEL_JSON).toFile(), root);
        } catch (IOException e) {
            throw new io.tinyptq.api.TinyPtqException("cannot write model to " + dir + ": " + e.getMessage(), e);
        }
    }

    /** A stored model and its quantizers ({@code quantized} is null for a float model). */
    public record Stored(Model model, QuantizedModel quantized) {
    }

    public static Stored load(Path dir) {
        Path json = dir.resolve(MODEL_JSON);
        try {
            JsonNode root = JSON.readTree(json.toFile());
            if (!"tinyptq-model".equals(root.path("format").asText())) {
                throw new InvalidModelException(json + ": not a tinyptq model (field 'format' is '"
                        + root.path("format").asText() + "', expected 'tinyptq-model')");
            }
            byte[] bytes = Files.readAllBytes(dir.resolve(CONSTANTS_BIN));
            ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
            Model.Builder b = Model.builder(root.path("name").asText());
            for (JsonNode in : root.path("inputs")) {
                b.input(in.path("name").asText(), Shape.of(ints(in.path("shape"))));
            }
            for (JsonNode c : root.path("constants")) {
                Shape shape = Shape.of(ints(c.path("shape")));
                long offset = c.path("offset").asLong();
                if ((offset + shape.size()) * 4 > bytes.length) {
                    throw new InvalidModelException(dir.resolve(CONSTANTS_BIN) + " holds " + bytes.length
                            + " bytes; constant '" + c.path("name").asText() + "' needs bytes up to "
                            + (offset + shape.size()) * 4 + " (truncated file?)");
                }
                float[] v = new float[shape.size()];
                for (int i = 0; i < v.length; i++) {
                    v[i] = buf.getFloat((int) ((offset + i) * 4));
                }
                b.constant(c.path("name").asText(), new Tensor(shape, v));
            }
            for (JsonNode op : root.path("ops")) {
                b.op(op(op, json));
            }
            for (JsonNode o : root.path("outputs")) {
                b.output(o.asText());
            }
            Model model = b.build();
            if (!root.has("quantization")) {
                return new Stored(model, null);
            }
            JsonNode q = root.path("quantization");
            Map<String, Quantizer> weights = new HashMap<>();
            Map<String, Quantizer> acts = new HashMap<>();
            q.path("weights").properties().forEach(e -> weights.put(e.getKey(), quantizer(e.getKey(), e.getValue())));
            q.path("activations").properties().forEach(e -> acts.put(e.getKey(), quantizer(e.getKey(), e.getValue())));
            return new Stored(model, QuantizedModel.of(model, QuantScheme.DEFAULTS, weights, acts));
        } catch (IOException e) {
            throw new InvalidModelException("cannot read model from " + dir + ": " + e.getMessage());
        }
    }

    private static ObjectNode quantizerNode(Quantizer q) {
        ObjectNode n = JSON.createObjectNode();
        n.put("bits", q.spec().bits());
        n.put("symmetry", q.spec().symmetry().name().toLowerCase(Locale.ROOT));
        n.put("granularity", q.spec().granularity().name().toLowerCase(Locale.ROOT));
        n.put("axis", q.spec().channelAxis());
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

    private static Quantizer quantizer(String target, JsonNode n) {
        Quantizer q = new Quantizer(target, new io.tinyptq.api.quant.QuantizerSpec(n.path("bits").asInt(),
                Symmetry.valueOf(n.path("symmetry").asText().toUpperCase(Locale.ROOT)),
                Granularity.valueOf(n.path("granularity").asText().toUpperCase(Locale.ROOT)), n.path("axis").asInt()));
        q.setParams(new QuantParams(floats(n.path("scale")), floats(n.path("zero_point"))));
        return q;
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
                case Padding p -> n.putObject(key).put("kind", p.kind().name().toLowerCase(Locale.ROOT))
                        .put("top", p.top()).put("bottom", p.bottom()).put("left", p.left()).put("right", p.right());
                default -> throw new IllegalStateException("op attribute type " + v.getClass() + " of " + op.name());
            }
        }
        return n;
    }

    private static Op op(JsonNode n, Path file) {
        String type = n.path("op").asText();
        Class<?> c = OPS.get(type);
        if (c == null) {
            throw new InvalidModelException(file + ": unknown op '" + type + "' (layer '" + n.path("name").asText()
                    + "'); known ops: " + new java.util.TreeSet<>(OPS.keySet()));
        }
        RecordComponent[] rc = c.getRecordComponents();
        Object[] args = new Object[rc.length];
        Class<?>[] types = new Class<?>[rc.length];
        for (int i = 0; i < rc.length; i++) {
            types[i] = rc[i].getType();
            JsonNode v = n.path(rc[i].getName());
            Class<?> t = rc[i].getType();
            if (v.isMissingNode()) {
                throw new InvalidModelException(file + ": layer '" + n.path("name").asText() + "' (" + type
                        + ") lacks attribute '" + rc[i].getName() + "'");
            }
            if (v.isNull()) {
                args[i] = null;
            } else if (t == String.class) {
                args[i] = v.asText();
            } else if (t == int.class) {
                args[i] = v.asInt();
            } else if (t == float.class) {
                args[i] = (float) v.asDouble();
            } else if (t == Activation.class) {
                args[i] = Activation.valueOf(v.asText().toUpperCase(Locale.ROOT));
            } else if (t == Op.PoolKind.class) {
                args[i] = Op.PoolKind.valueOf(v.asText().toUpperCase(Locale.ROOT));
            } else if (t == Shape.class) {
                args[i] = Shape.of(ints(v));
            } else if (t == int[].class) {
                args[i] = ints(v);
            } else if (t == Padding.class) {
                args[i] = new Padding(Padding.Kind.valueOf(v.path("kind").asText().toUpperCase(Locale.ROOT)),
                        v.path("top").asInt(), v.path("bottom").asInt(), v.path("left").asInt(), v.path("right").asInt());
            } else {
                throw new IllegalStateException("op attribute type " + t);
            }
        }
        try {
            return (Op) c.getDeclaredConstructor(types).newInstance(args);
        } catch (ReflectiveOperationException e) {
            throw new InvalidModelException(file + ": layer '" + n.path("name").asText() + "' (" + type + "): "
                    + (e.getCause() == null ? e.getMessage() : e.getCause().getMessage()));
        }
    }

    private static void dims(ArrayNode a, int[] dims) {
        for (int d : dims) {
            a.add(d);
        }
    }

    private static int[] ints(JsonNode a) {
        int[] v = new int[a.size()];
        Iterator<JsonNode> it = a.elements();
        for (int i = 0; it.hasNext(); i++) {
            v[i] = it.next().asInt();
        }
        return v;
    }

    private static float[] floats(JsonNode a) {
        List<Float> v = new ArrayList<>();
        a.elements().forEachRemaining(x -> v.add((float) x.asDouble()));
        float[] out = new float[v.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = v.get(i);
        }
        return out;
    }
}
