package io.tinyptq.kernel.recipe;

import com.fasterxml.jackson.core.JsonToken;
import io.tinyptq.api.TinyPtqException;
import io.tinyptq.api.quant.QuantScheme;
import io.tinyptq.api.spi.Plugin;
import io.tinyptq.api.spi.PluginKind;
import io.tinyptq.kernel.options.OptionBinder;
import io.tinyptq.kernel.options.OptionProblem;
import io.tinyptq.kernel.options.OptionsException;
import io.tinyptq.kernel.options.YamlNode;
import io.tinyptq.kernel.registry.PluginNotFoundException;
import io.tinyptq.kernel.registry.PluginRegistry;
import io.tinyptq.kernel.registry.Suggest;
import jakarta.inject.Inject;
import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Loads YAML recipes strictly. The format (see {@code recipes/README.md} and {@code tinyptq recipe schema}):
 *
 * <pre>{@code
 * name: adaround-layer
 * description: AdaRound, layer-wise, MSE initialization
 * seed: 0
 * calibration: {size: 1024, batch_size: 32}
 * quantization: {weight_bits: 4, activation_bits: 8, input_bits: 8}
 * backend: cpu
 * preprocess: [cle]
 * init: {weights: mse, activations: mse}
 * optimize:
 *   - plugin: round
 *     options: {iterations: 20000}
 * postprocess: []
 * }</pre>
 *
 * Every problem (unknown key, unknown plugin, wrong type, broken rule) is reported with file, line and column;
 * all problems of a file are reported together.
 */
public final class RecipeLoader {
    public static final String DEFAULT_BACKEND = "cpu";
    public static final String DEFAULT_INIT = "mse";
    static final List<String> TOP_KEYS = List.of(
            "name",
            "description",
            "seed",
            "calibration",
            "quantization",
            "backend",
            "preprocess",
            "init",
            "optimize",
            "postprocess");
    static final List<String> INIT_KEYS = List.of("weights", "activations");
    static final List<String> STEP_KEYS = List.of("plugin", "options");

    private final PluginRegistry registry;

    @Inject
    public RecipeLoader(PluginRegistry registry) {
        this.registry = registry;
    }

    public Recipe load(Path file) {
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            return load(r, file.toString());
        } catch (NoSuchFileException e) {
            throw new TinyPtqException("recipe file " + file + " does not exist", e);
        } catch (IOException e) {
            throw new TinyPtqException(file + ": cannot read recipe: " + e.getMessage(), e);
        }
    }

    public Recipe load(String yaml, String sourceName) {
        return load(new StringReader(yaml), sourceName);
    }

    public Recipe load(Reader reader, String sourceName) {
        YamlNode root = YamlNode.parse(reader, sourceName);
        List<OptionProblem> problems = new ArrayList<>();
        if (!(root instanceof YamlNode.MapNode map)) {
            throw new OptionsException(
                    sourceName,
                    List.of(new OptionProblem(
                            root.location(),
                            "recipe",
                            "",
                            "expected a map with keys " + TOP_KEYS + ", found " + root.describe())));
        }
        if (map.entries().isEmpty()) {
            // Every key has a default, but a file of nothing (or only comments) is a mistake, not a recipe.
            throw new OptionsException(
                    sourceName,
                    List.of(new OptionProblem(
                            root.location(),
                            "recipe",
                            "",
                            "the recipe is empty (no keys); name at least its stages, e.g. 'optimize: [round]', or start from"
                                    + " a bundled recipe: tinyptq recipe show NAME")));
        }
        unknownKeys(map, TOP_KEYS, "recipe", "", problems);
        Map<String, YamlNode.Entry> e = map.entries();

        String name = string(e.get("name"), "name", problems);
        if (name == null && e.get("name") == null) {
            name = stripExtension(sourceName);
        }
        String description = string(e.get("description"), "description", problems);
        long seed = 0;
        if (e.containsKey("seed")) {
            YamlNode n = e.get("seed").value();
            if (n instanceof YamlNode.Scalar s && s.token() == JsonToken.VALUE_NUMBER_INT) {
                try {
                    seed = Long.parseLong(s.text());
                } catch (NumberFormatException tooLarge) {
                    problems.add(new OptionProblem(
                            n.location(),
                            "recipe",
                            "seed",
                            "expected an integer in range [" + Long.MIN_VALUE + ", " + Long.MAX_VALUE + "], found "
                                    + n.describe()));
                }
            } else {
                problems.add(new OptionProblem(
                        n.location(), "recipe", "seed", "expected an integer, found " + n.describe()));
            }
        }
        Calibration calibration = new OptionBinder("section 'calibration'", problems)
                .bind(Calibration.class, value(e.get("calibration")), Calibration.DEFAULTS);
        QuantScheme quantization = new OptionBinder("section 'quantization'", problems)
                .bind(QuantScheme.class, value(e.get("quantization")), QuantScheme.DEFAULTS);
        Step backend = e.containsKey("backend")
                ? step(PluginKind.BACKEND, "backend", e.get("backend").value(), problems)
                : Step.of(DEFAULT_BACKEND);
        List<Step> pre = steps(PluginKind.PREPROCESS, "preprocess", value(e.get("preprocess")), problems);
        Step initW = Step.of(DEFAULT_INIT);
        Step initA = Step.of(DEFAULT_INIT);
        if (e.containsKey("init")) {
            YamlNode init = e.get("init").value();
            if (init instanceof YamlNode.MapNode im) {
                unknownKeys(im, INIT_KEYS, "section 'init'", "", problems);
                if (im.entries().containsKey("weights")) {
                    initW = step(
                            PluginKind.INIT,
                            "init.weights",
                            im.entries().get("weights").value(),
                            problems);
                }
                if (im.entries().containsKey("activations")) {
                    initA = step(
                            PluginKind.INIT,
                            "init.activations",
                            im.entries().get("activations").value(),
                            problems);
                }
            } else if (init instanceof YamlNode.Scalar s && s.token() == JsonToken.VALUE_STRING) {
                initW = step(PluginKind.INIT, "init.weights", init, problems);
                initA = step(PluginKind.INIT, "init.activations", init, problems);
            } else {
                problems.add(new OptionProblem(
                        init.location(),
                        "section 'init'",
                        "",
                        "expected a plugin name or a map" + " with keys " + INIT_KEYS + ", found " + init.describe()));
            }
        }
        List<Step> opt = steps(PluginKind.OPTIMIZE, "optimize", value(e.get("optimize")), problems);
        List<Step> post = steps(PluginKind.POSTPROCESS, "postprocess", value(e.get("postprocess")), problems);
        if (!problems.isEmpty()) {
            throw new OptionsException(sourceName, problems);
        }
        Recipe raw =
                new Recipe(name, description, seed, calibration, quantization, backend, pre, initW, initA, opt, post);
        return RecipeValidator.resolve(raw, registry, sourceName);
    }

    private static YamlNode value(YamlNode.Entry e) {
        return e == null ? null : e.value();
    }

    private static String stripExtension(String source) {
        String base = source.substring(Math.max(source.lastIndexOf('/'), source.lastIndexOf('\\')) + 1);
        int dot = base.lastIndexOf('.');
        return dot > 0 ? base.substring(0, dot) : base;
    }

    private static String string(YamlNode.Entry e, String key, List<OptionProblem> problems) {
        if (e == null) {
            return null;
        }
        if (e.value() instanceof YamlNode.Scalar s && s.token() == JsonToken.VALUE_STRING) {
            return s.text();
        }
        problems.add(new OptionProblem(
                e.value().location(),
                "recipe",
                key,
                "expected a string, found " + e.value().describe()));
        return null;
    }

    private static void unknownKeys(
            YamlNode.MapNode map, List<String> known, String component, String prefix, List<OptionProblem> problems) {
        for (var entry : map.entries().entrySet()) {
            if (!known.contains(entry.getKey())) {
                String close = Suggest.closest(entry.getKey(), known);
                problems.add(new OptionProblem(
                        entry.getValue().keyLocation(),
                        component,
                        "",
                        "unknown key '" + prefix
                                + entry.getKey() + "'" + (close != null ? " (did you mean '" + close + "'?)" : "")
                                + "; known keys: " + String.join(", ", known)));
            }
        }
    }

    private List<Step> steps(PluginKind kind, String section, YamlNode node, List<OptionProblem> problems) {
        List<Step> out = new ArrayList<>();
        if (node == null || node instanceof YamlNode.Scalar s && s.isNull()) {
            return out;
        }
        if (!(node instanceof YamlNode.ListNode list)) {
            problems.add(new OptionProblem(
                    node.location(),
                    "section '" + section + "'",
                    "",
                    "expected a list of steps, found " + node.describe()));
            return out;
        }
        for (int i = 0; i < list.items().size(); i++) {
            out.add(step(kind, section + "[" + i + "]", list.items().get(i), problems));
        }
        return out;
    }

    /** A step: a plugin name, or a map with {@code plugin} and {@code options}. */
    private Step step(PluginKind kind, String section, YamlNode node, List<OptionProblem> problems) {
        YamlNode pluginNode;
        YamlNode optionsNode = null;
        if (node instanceof YamlNode.MapNode m) {
            unknownKeys(m, STEP_KEYS, "stage " + section, "", problems);
            YamlNode.Entry p = m.entries().get("plugin");
            if (p == null) {
                problems.add(new OptionProblem(
                        node.location(),
                        "stage " + section,
                        "plugin",
                        "a step needs a 'plugin' key naming one of " + registry.names(kind)));
                return Step.of("?");
            }
            pluginNode = p.value();
            optionsNode = value(m.entries().get("options"));
        } else {
            pluginNode = node;
        }
        if (!(pluginNode instanceof YamlNode.Scalar s) || s.token() != JsonToken.VALUE_STRING) {
            problems.add(new OptionProblem(
                    pluginNode.location(),
                    "stage " + section,
                    "plugin",
                    "expected a plugin name (one of " + registry.names(kind) + "), found " + pluginNode.describe()));
            return Step.of("?");
        }
        Plugin<?> plugin;
        try {
            plugin = registry.find(kind, s.text());
        } catch (PluginNotFoundException ex) {
            problems.add(new OptionProblem(pluginNode.location(), "stage " + section, "plugin", ex.getMessage()));
            return Step.of(s.text());
        }
        Record options = bind(plugin, optionsNode, RecipeValidator.component(kind, section, plugin.name()), problems);
        return new Step(plugin.name(), options);
    }

    private static <O extends Record> O bind(
            Plugin<O> plugin, YamlNode options, String component, List<OptionProblem> problems) {
        return new OptionBinder(component, problems).bind(plugin.optionsType(), options, plugin.defaultOptions());
    }
}
