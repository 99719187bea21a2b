package io.tinyptq.kernel.recipe;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.tinyptq.api.InvalidOptionException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Applies {@code key=value} overrides to a recipe (the CLI's {@code --set}, a sweep's overrides), then loads the
 * result through {@link RecipeLoader}, so overrides get exactly the recipe's validation and messages.
 *
 * <p>Keys are dotted paths in the recipe tree. Steps are addressed by plugin name or index, and a step's options
 * by their key directly: {@code optimize.round.iterations=500} is {@code optimize[i].options.iterations} of the
 * step whose plugin is {@code round}; {@code init.weights.candidates=200}, {@code backend.threads=1},
 * {@code quantization.weight_bits=4}, {@code seed=3}. Values are YAML scalars or flow collections
 * ({@code [a, b]}, {@code {layer: fc, weight_bits: 8}}).
 */
public final class RecipeOverrides {
    private static final YAMLMapper YAML = new YAMLMapper();
    private static final Set<String> STEP_KEYS = Set.of("plugin", "options");

    private RecipeOverrides() {}

    /** The recipe with {@code overrides} ({@code key=value}) applied, validated again. */
    public static Recipe apply(Recipe recipe, List<String> overrides, RecipeLoader loader) {
        if (overrides.isEmpty()) {
            return recipe;
        }
        Map<String, Object> tree = RecipeWriter.toTree(recipe);
        for (String o : overrides) {
            int eq = o.indexOf('=');
            if (eq <= 0) {
                throw new InvalidOptionException(
                        "override '" + o + "': expected key=value, e.g. optimize.round.iterations=500");
            }
            set(tree, o.substring(0, eq).strip(), parse(o.substring(eq + 1).strip(), o), o);
        }
        try {
            return loader.load(YAML.writeValueAsString(tree), "recipe '" + recipe.name() + "' with " + overrides);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Object parse(String value, String override) {
        try {
            return YAML.readValue(value.isEmpty() ? "''" : value, Object.class);
        } catch (JsonProcessingException e) {
            // SnakeYAML's message spans lines (context, the text under a caret, problem): its sentences on one line.
            String problem = e.getOriginalMessage()
                    .lines()
                    .filter(l -> !l.isBlank() && !Character.isWhitespace(l.charAt(0)))
                    .map(String::strip)
                    .collect(Collectors.joining(", "));
            JsonLocation at = e.getLocation();
            throw new InvalidOptionException("override '" + override + "': value is not valid YAML: " + problem
                    + (at == null || at.getColumnNr() < 1 ? "" : " (column " + at.getColumnNr() + " of the value)"));
        }
    }

    @SuppressWarnings("unchecked")
    private static void set(Map<String, Object> root, String path, Object value, String override) {
        String[] keys = path.split("\\.", -1);
        if (Arrays.asList(keys).contains("")) {
            throw new InvalidOptionException("override '" + override + "': key '" + path + "' has an empty part;"
                    + " expected a dotted path such as optimize.round.iterations");
        }
        Object node = root;
        for (int i = 0; i < keys.length; i++) {
            String key = keys[i];
            boolean last = i == keys.length - 1;
            if (node instanceof List<?> list) {
                Map<String, Object> step = findStep((List<Object>) list, key, override);
                node = step;
                if (last) {
                    throw new InvalidOptionException(
                            "override '" + override + "': name an option of step '" + key + "'");
                }
                continue;
            }
            Map<String, Object> map = (Map<String, Object>) node;
            if (map.containsKey("plugin") && !STEP_KEYS.contains(key)) {
                // A step: its option keys are addressed directly.
                Object options = map.computeIfAbsent("options", k -> new LinkedHashMap<String, Object>());
                if (!(options instanceof Map<?, ?>)) {
                    throw new InvalidOptionException("override '" + override + "': the step's 'options' is a value, not"
                            + " a map of options, so '" + key + "' cannot be set in it");
                }
                map = (Map<String, Object>) options;
            }
            if (last) {
                map.put(key, value);
                return;
            }
            Object next = map.get(key);
            if (next == null) {
                next = new LinkedHashMap<String, Object>();
                map.put(key, next);
            } else if (next instanceof String plugin) {
                // A step written by name only, e.g. "backend: cpu".
                Map<String, Object> step = new LinkedHashMap<>();
                step.put("plugin", plugin);
                map.put(key, step);
                next = step;
            } else if (!(next instanceof Map<?, ?>) && !(next instanceof List<?>)) {
                throw new InvalidOptionException(
                        "override '" + override + "': '" + key + "' is a value, not a section");
            }
            node = next;
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> findStep(List<Object> steps, String key, String override) {
        if (key.matches("\\d+")) {
            // Compared as text first: an index past int's range is as absent as any other.
            if (key.length() > 9 || Integer.parseInt(key) >= steps.size()) {
                throw new InvalidOptionException("override '" + override + "': there is no step " + key
                        + " (the section has " + steps.size() + ")");
            }
            if (!(steps.get(Integer.parseInt(key)) instanceof Map<?, ?> step)) {
                throw new InvalidOptionException("override '" + override + "': item " + key + " of the list is a value,"
                        + " not a step or section; set the list as a whole (key=[...])");
            }
            return (Map<String, Object>) step;
        }
        for (Object s : steps) {
            if (!(s instanceof Map<?, ?>)) {
                throw new InvalidOptionException("override '" + override + "': the list holds values, not steps or"
                        + " sections, so '" + key + "' names nothing in it; set the list as a whole (key=[...])");
            }
        }
        List<String> names = new ArrayList<>();
        for (Object s : steps) {
            Map<String, Object> m = (Map<String, Object>) s;
            if (key.equals(m.get("plugin"))) {
                return m;
            }
            names.add(String.valueOf(m.get("plugin")));
        }
        throw new InvalidOptionException("override '" + override + "': no step uses plugin '" + key
                + "'; the steps are " + names + " (by name or index)");
    }
}
