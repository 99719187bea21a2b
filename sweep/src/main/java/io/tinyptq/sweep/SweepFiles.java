package io.tinyptq.sweep;

import io.tinyptq.api.TinyPtqException;
import io.tinyptq.kernel.options.Location;
import io.tinyptq.kernel.options.OptionBinder;
import io.tinyptq.kernel.options.OptionProblem;
import io.tinyptq.kernel.options.OptionsException;
import io.tinyptq.kernel.options.YamlNode;
import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Loads sweep files strictly, through the kernel's YAML tree and option binder: an unknown key fails with
 * file:line:column and the known keys, a wrong type names the key and what was expected, and every problem of
 * the file is reported together. On top of the binder's rules: bit-width pairs are {@code W/A} with both in
 * 2..8, model names and method labels are unique.
 */
public final class SweepFiles {
    static final Pattern BITS = Pattern.compile("\\s*(\\d+)\\s*/\\s*(\\d+)\\s*");
    private static final SweepFile DEFAULTS =
            new SweepFile(null, "", List.of(), List.of(), List.of(), List.of(), List.of());
    /** An empty YAML string, read by the kernel's parser (only the kernel touches Jackson's token types). */
    private static final YamlNode EMPTY_STRING = YamlNode.parse(new StringReader("''"), "<default>");

    private SweepFiles() {}

    public static SweepFile load(Path file) {
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            return load(r, file.toString());
        } catch (IOException e) {
            throw new TinyPtqException(file + ": cannot read sweep file: " + e.getMessage(), e);
        }
    }

    public static SweepFile load(String yaml, String sourceName) {
        return load(new StringReader(yaml), sourceName);
    }

    public static SweepFile load(Reader reader, String sourceName) {
        YamlNode root = YamlNode.parse(reader, sourceName);
        List<OptionProblem> problems = new ArrayList<>();
        if (!(root instanceof YamlNode.MapNode map)) {
            throw new OptionsException(
                    sourceName,
                    List.of(new OptionProblem(
                            root.location(),
                            "sweep",
                            "",
                            "expected a map with keys name, description, models, recipes, bits, seeds, overrides, found "
                                    + root.describe())));
        }
        // Optional strings inside list entries: the binder has no defaults for records in lists, so an absent
        // calib_data or label is written in as an empty string ("none") before binding.
        YamlNode filled =
                withOptionalStrings(map, Map.of("models", List.of("calib_data"), "recipes", List.of("label")));
        SweepFile sweep = new OptionBinder("sweep", problems).bind(SweepFile.class, filled, DEFAULTS);
        if (sweep != null) {
            checkBits(sweep, map, problems);
            unique(sweep.models().stream().map(SweepFile.ModelEntry::name).toList(), "models", "name", map, problems);
            unique(sweep.recipes().stream().map(SweepFiles::label).toList(), "recipes", "label", map, problems);
        }
        if (!problems.isEmpty()) {
            throw new OptionsException(sourceName, problems);
        }
        return sweep;
    }

    /** The method name of a recipe entry: its label, else the recipe as written. */
    static String label(SweepFile.RecipeEntry r) {
        return r.label() == null || r.label().isEmpty() ? r.recipe() : r.label();
    }

    /** Weight and activation bits of a {@code W/A} pair (already checked). */
    static int[] bits(String pair) {
        Matcher m = BITS.matcher(pair);
        if (!m.matches()) {
            throw new IllegalArgumentException("not a W/A pair: " + pair);
        }
        return new int[] {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2))};
    }

    private static void checkBits(SweepFile sweep, YamlNode.MapNode map, List<OptionProblem> problems) {
        for (int i = 0; i < sweep.bits().size(); i++) {
            String b = sweep.bits().get(i);
            Matcher m = BITS.matcher(b);
            boolean ok = m.matches();
            if (ok) {
                int w = Integer.parseInt(m.group(1));
                int a = Integer.parseInt(m.group(2));
                ok = w >= 2 && w <= 8 && a >= 2 && a <= 8;
            }
            if (!ok) {
                problems.add(new OptionProblem(
                        itemLocation(map, "bits", i),
                        "sweep",
                        "bits[" + i + "]",
                        "expected weight/activation bits W/A with both in 2..8 (e.g. 4/4), found '" + b + "'"));
            }
        }
    }

    private static void unique(
            List<String> names, String section, String key, YamlNode.MapNode map, List<OptionProblem> problems) {
        Map<String, Integer> first = new HashMap<>();
        for (int i = 0; i < names.size(); i++) {
            Integer before = first.putIfAbsent(names.get(i), i);
            if (before != null) {
                problems.add(new OptionProblem(
                        itemLocation(map, section, i),
                        "sweep",
                        section + "[" + i + "]." + key,
                        "'" + names.get(i) + "' is already used by " + section + "[" + before + "]; each " + key
                                + " names one row of the tables"));
            }
        }
    }

    private static Location itemLocation(YamlNode.MapNode map, String section, int i) {
        YamlNode.Entry e = map.entries().get(section);
        if (e == null) {
            return map.location();
        }
        if (e.value() instanceof YamlNode.ListNode list && i < list.items().size()) {
            return list.items().get(i).location();
        }
        return e.value().location();
    }

    private static YamlNode withOptionalStrings(YamlNode.MapNode root, Map<String, List<String>> optional) {
        Map<String, YamlNode.Entry> entries = new LinkedHashMap<>(root.entries());
        optional.forEach((section, keys) -> {
            YamlNode.Entry e = entries.get(section);
            if (e == null || !(e.value() instanceof YamlNode.ListNode list)) {
                return;
            }
            List<YamlNode> items = new ArrayList<>();
            for (YamlNode item : list.items()) {
                if (item instanceof YamlNode.MapNode m) {
                    Map<String, YamlNode.Entry> me = new LinkedHashMap<>(m.entries());
                    for (String k : keys) {
                        me.putIfAbsent(k, new YamlNode.Entry(m.location(), EMPTY_STRING));
                    }
                    items.add(new YamlNode.MapNode(me, m.location()));
                } else {
                    items.add(item);
                }
            }
            entries.put(section, new YamlNode.Entry(e.keyLocation(), new YamlNode.ListNode(items, list.location())));
        });
        return new YamlNode.MapNode(entries, root.location());
    }
}
