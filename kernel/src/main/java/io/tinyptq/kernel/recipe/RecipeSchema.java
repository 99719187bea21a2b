package io.tinyptq.kernel.recipe;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tinyptq.api.quant.QuantScheme;
import io.tinyptq.api.spi.Plugin;
import io.tinyptq.api.spi.PluginKind;
import io.tinyptq.kernel.options.Names;
import io.tinyptq.kernel.options.OptionField;
import io.tinyptq.kernel.options.OptionValues;
import io.tinyptq.kernel.registry.PluginRegistry;
import jakarta.inject.Inject;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;

/**
 * Generates the JSON Schema (draft 2020-12) of the recipe format from the option records of the plugins
 * present, so editors can complete and check recipe files. Each step's {@code options} is constrained by an
 * {@code if plugin == X then options: <X's schema>} rule per plugin.
 */
public final class RecipeSchema {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    private final PluginRegistry registry;

    @Inject
    public RecipeSchema(PluginRegistry registry) {
        this.registry = registry;
    }

    public String generate() {
        try {
            return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(schema());
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    public ObjectNode schema() {
        ObjectNode root = F.objectNode();
        root.put("$schema", "https://json-schema.org/draft/2020-12/schema");
        root.put("$id", "https://tinyptq.io/schema/recipe.json");
        root.put("title", "tinyptq recipe");
        root.put(
                "description",
                "A PTQ pipeline: preprocess -> init -> optimize -> postprocess (Zhuo et al. 2022, Fig. 2)");
        root.put("type", "object");
        root.put("additionalProperties", false);
        ObjectNode p = root.putObject("properties");
        p.putObject("name").put("type", "string").put("description", "recipe name, recorded in run provenance");
        p.putObject("description").put("type", "string");
        p.putObject("seed")
                .put("type", "integer")
                .put("description", "seed of every random draw of a run")
                .put("default", 0);
        p.set("calibration", record(Calibration.class, Calibration.DEFAULTS));
        p.set("quantization", record(QuantScheme.class, QuantScheme.DEFAULTS));
        p.set("backend", step(PluginKind.BACKEND));
        p.set("preprocess", steps(PluginKind.PREPROCESS));
        ObjectNode init = p.putObject("init");
        ArrayNode initForms = init.putArray("oneOf");
        initForms.add(names(PluginKind.INIT));
        ObjectNode initMap = initForms.addObject().put("type", "object").put("additionalProperties", false);
        initMap.putObject("properties").set("weights", step(PluginKind.INIT));
        ((ObjectNode) initMap.get("properties")).set("activations", step(PluginKind.INIT));
        p.set("optimize", steps(PluginKind.OPTIMIZE));
        p.set("postprocess", steps(PluginKind.POSTPROCESS));
        return root;
    }

    private ObjectNode steps(PluginKind kind) {
        ObjectNode n = F.objectNode().put("type", "array").put("description", kind.title());
        n.set("items", step(kind));
        return n;
    }

    private ObjectNode names(PluginKind kind) {
        ObjectNode n = F.objectNode().put("type", "string");
        ArrayNode e = n.putArray("enum");
        registry.names(kind).forEach(e::add);
        return n;
    }

    private ObjectNode step(PluginKind kind) {
        ObjectNode n = F.objectNode();
        ArrayNode forms = n.putArray("oneOf");
        forms.add(names(kind));
        ObjectNode map = forms.addObject().put("type", "object").put("additionalProperties", false);
        map.putArray("required").add("plugin");
        ObjectNode props = map.putObject("properties");
        props.set("plugin", names(kind));
        props.putObject("options").put("type", "object");
        ArrayNode rules = map.putArray("allOf");
        for (Plugin<?> plugin : registry.plugins(kind)) {
            ObjectNode rule = rules.addObject();
            rule.putObject("if").putObject("properties").putObject("plugin").put("const", plugin.name());
            rule.putObject("then").putObject("properties").set("options", options(plugin));
        }
        return n;
    }

    private static <O extends Record> ObjectNode options(Plugin<O> plugin) {
        ObjectNode n = record(plugin.optionsType(), plugin.defaultOptions());
        if (!plugin.description().isEmpty()) {
            n.put("description", plugin.description());
        }
        return n;
    }

    /**
     * Schema of an options record; defaults come from {@code defaults} when given, for its nested records too (each
     * of their keys is then optional, as the binder fills it from the default).
     */
    @SuppressWarnings("unchecked")
    static ObjectNode record(Class<? extends Record> type, Record defaults) {
        ObjectNode n = F.objectNode().put("type", "object").put("additionalProperties", false);
        ObjectNode props = n.putObject("properties");
        ArrayNode required = F.arrayNode();
        for (OptionField f : OptionField.of(type)) {
            Object nestedDefaults = defaults != null && f.type().isRecord() ? f.get(defaults) : null;
            ObjectNode fs = nestedDefaults != null
                    ? record((Class<? extends Record>) f.type(), (Record) nestedDefaults)
                    : value(f.component().getGenericType(), f);
            if (!f.description().isEmpty()) {
                fs.put("description", f.description());
            }
            if (defaults != null) {
                fs.set("default", new ObjectMapper().valueToTree(OptionValues.plain(f.get(defaults))));
            } else if (!f.optional()) {
                required.add(f.key());
            }
            props.set(f.key(), fs);
        }
        if (!required.isEmpty()) {
            n.set("required", required);
        }
        return n;
    }

    @SuppressWarnings("unchecked")
    private static ObjectNode value(Type t, OptionField f) {
        if (t instanceof ParameterizedType pt) {
            ObjectNode n = F.objectNode().put("type", "array");
            n.set("items", value(pt.getActualTypeArguments()[0], null));
            return n;
        }
        Class<?> c = (Class<?>) t;
        if (c.isRecord()) {
            return record((Class<? extends Record>) c, null);
        }
        ObjectNode n = F.objectNode();
        if (c.isEnum()) {
            ArrayNode e = n.put("type", "string").putArray("enum");
            for (Object v : c.getEnumConstants()) {
                e.add(Names.enumValue((Enum<?>) v));
            }
            return n;
        }
        String type = switch (OptionField.typeName(c)) {
            case "integer" -> "integer";
            case "number" -> "number";
            case "boolean" -> "boolean";
            default -> "string";
        };
        n.put("type", type);
        if (f != null && (type.equals("integer") || type.equals("number"))) {
            if (Double.isFinite(f.min())) {
                put(n, "minimum", f.min());
            }
            if (Double.isFinite(f.max())) {
                put(n, "maximum", f.max());
            }
        }
        if (f != null && !f.pattern().isEmpty()) {
            n.put("pattern", f.pattern());
        }
        return n;
    }

    private static void put(ObjectNode n, String key, double v) {
        if (v == Math.rint(v)) {
            n.put(key, (long) v);
        } else {
            n.put(key, v);
        }
    }
}
