package io.tinyptq.kernel.options;

import com.fasterxml.jackson.core.JsonToken;
import io.tinyptq.kernel.registry.Suggest;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Binds a YAML map onto an options record, strictly: an unknown key is an error that lists the known keys,
 * a value of the wrong type is an error naming the expected type, and keys left out take the plugin's
 * defaults. After binding, {@link OptionValidator} checks the rules with the file positions remembered here.
 * Every problem is collected, so a recipe with three typos reports three lines.
 */
public final class OptionBinder {
    private final String component;
    private final List<OptionProblem> problems;
    private final Map<String, Location> positions = new HashMap<>();

    /**
     * @param component how messages name the owner, e.g. {@code "stage optimize, plugin 'round'"}
     * @param problems  where problems are appended
     */
    public OptionBinder(String component, List<OptionProblem> problems) {
        this.component = component;
        this.problems = problems;
    }

    /**
     * Binds and validates; returns {@code null} (with problems recorded) when the node cannot be bound.
     *
     * @param node     a map, or an empty value / {@code null} meaning "all defaults"
     * @param defaults values for keys left out; {@code null} makes every non-boxed key required
     */
    public <R extends Record> R bind(Class<R> type, YamlNode node, R defaults) {
        int before = problems.size();
        R value = bindRecord(type, node, defaults, "");
        if (value != null && problems.size() == before) {
            OptionValidator.validate(value, component, "", this::position, problems);
        }
        return problems.size() == before ? value : null;
    }

    private Location position(String keyPath) {
        String k = keyPath;
        while (true) {
            Location l = positions.get(k);
            if (l != null) {
                return l;
            }
            int cut = Math.max(k.lastIndexOf('.'), k.lastIndexOf('['));
            if (cut <= 0) {
                return positions.getOrDefault("", Location.CODE);
            }
            k = k.substring(0, cut);
        }
    }

    private <R extends Record> R bindRecord(Class<R> type, YamlNode node, R defaults, String prefix) {
        List<OptionField> fields = OptionField.of(type);
        positions.putIfAbsent(
                prefix.isEmpty() ? "" : prefix.substring(0, prefix.length() - 1),
                node == null ? Location.CODE : node.location());
        Map<String, YamlNode.Entry> entries;
        if (node == null || node instanceof YamlNode.Scalar s && s.isNull()) {
            entries = Map.of();
        } else if (node instanceof YamlNode.MapNode m) {
            entries = m.entries();
        } else {
            problem(node.location(), prefix, "expected a map of options, found " + node.describe());
            return null;
        }
        List<String> known = fields.stream().map(OptionField::key).toList();
        boolean ok = true;
        for (var e : entries.entrySet()) {
            if (!known.contains(e.getKey())) {
                String close = Suggest.closest(e.getKey(), known);
                problems.add(new OptionProblem(
                        e.getValue().keyLocation(),
                        component,
                        "",
                        "unknown key '" + prefix + e.getKey() + "'"
                                + (close != null ? " (did you mean '" + close + "'?)" : "")
                                + "; known keys: " + (known.isEmpty() ? "none" : String.join(", ", known))));
                ok = false;
            }
        }
        Object[] args = new Object[fields.size()];
        for (int i = 0; i < fields.size(); i++) {
            OptionField f = fields.get(i);
            YamlNode.Entry e = entries.get(f.key());
            String key = prefix + f.key();
            if (e != null) {
                positions.put(key, e.value().location());
                // A nested options record given in part keeps the defaults of the keys it leaves out.
                Object nestedDefaults = defaults != null && f.type().isRecord() ? f.get(defaults) : null;
                Object v = nestedDefaults != null
                        ? bindNested((Record) nestedDefaults, e.value(), key)
                        : convert(f.component().getGenericType(), e.value(), key);
                if (v == INVALID) {
                    ok = false;
                } else {
                    args[i] = v;
                }
            } else if (defaults != null) {
                args[i] = f.get(defaults);
            } else if (List.class.isAssignableFrom(f.type())) {
                args[i] = List.of();
            } else if (f.type().isPrimitive()) {
                problem(node == null ? Location.CODE : node.location(), key, "this key is required");
                ok = false;
            }
        }
        if (!ok) {
            return null;
        }
        return construct(type, args, prefix, node == null ? Location.CODE : node.location());
    }

    private static final Object INVALID = new Object();

    @SuppressWarnings("unchecked")
    private Object bindNested(Record defaults, YamlNode node, String key) {
        Object r = bindRecord((Class<Record>) defaults.getClass(), node, defaults, key + ".");
        return r == null ? INVALID : r;
    }

    private Object convert(Type type, YamlNode node, String key) {
        if (type instanceof ParameterizedType pt && pt.getRawType() == List.class) {
            if (!(node instanceof YamlNode.ListNode list)) {
                if (node instanceof YamlNode.Scalar s && s.isNull()) {
                    return List.of();
                }
                return invalid(node, key, "expected a list, found " + node.describe());
            }
            List<Object> out = new ArrayList<>();
            boolean ok = true;
            for (int i = 0; i < list.items().size(); i++) {
                YamlNode item = list.items().get(i);
                String itemKey = key + "[" + i + "]";
                positions.put(itemKey, item.location());
                Object v = item instanceof YamlNode.Scalar s && s.isNull()
                        ? invalid(item, itemKey, "expected a value, found an empty list item")
                        : convert(pt.getActualTypeArguments()[0], item, itemKey);
                if (v == INVALID) {
                    ok = false;
                } else {
                    out.add(v);
                }
            }
            return ok ? List.copyOf(out) : INVALID;
        }
        Class<?> c = (Class<?>) type;
        if (c.isRecord()) {
            @SuppressWarnings("unchecked")
            Object r = bindRecord((Class<? extends Record>) c, node, null, key + ".");
            return r == null ? INVALID : r;
        }
        if (!(node instanceof YamlNode.Scalar s)) {
            return invalid(node, key, "expected " + FakeName.of(c) + ", found " + node.describe());
        }
        if (s.isNull()) {
            return c.isPrimitive() ? invalid(node, key, "expected " + FakeName.of(c) + ", found an empty value") : null;
        }
        JsonToken t = s.token();
        try {
            if (c == int.class || c == Integer.class) {
                if (t != JsonToken.VALUE_NUMBER_INT) {
                    return invalid(node, key, "expected an integer, found " + s.describe());
                }
                return Math.toIntExact(Long.parseLong(s.text()));
            }
            if (c == long.class || c == Long.class) {
                if (t != JsonToken.VALUE_NUMBER_INT) {
                    return invalid(node, key, "expected an integer, found " + s.describe());
                }
                return Long.parseLong(s.text());
            }
            if (c == double.class || c == Double.class || c == float.class || c == Float.class) {
                if (t != JsonToken.VALUE_NUMBER_INT && t != JsonToken.VALUE_NUMBER_FLOAT) {
                    return invalid(node, key, "expected a number, found " + s.describe());
                }
                double d = Double.parseDouble(s.text());
                return c == float.class || c == Float.class ? (Object) (float) d : (Object) d;
            }
        } catch (ArithmeticException | NumberFormatException e) {
            return invalid(node, key, "expected " + FakeName.of(c) + " in range, found " + s.describe());
        }
        if (c == boolean.class || c == Boolean.class) {
            if (t != JsonToken.VALUE_TRUE && t != JsonToken.VALUE_FALSE) {
                return invalid(node, key, "expected true or false, found " + s.describe());
            }
            return t == JsonToken.VALUE_TRUE;
        }
        if (c == String.class) {
            if (t != JsonToken.VALUE_STRING) {
                return invalid(node, key, "expected a string, found " + s.describe());
            }
            return s.text();
        }
        if (c.isEnum()) {
            for (Object e : c.getEnumConstants()) {
                if (((Enum<?>) e).name().equalsIgnoreCase(s.text().replace('-', '_'))) {
                    return e;
                }
            }
            return invalid(node, key, "expected " + OptionField.typeName(c) + ", found " + s.describe());
        }
        throw new IllegalArgumentException(
                "options of " + component + ": unsupported option type " + c.getName() + " for key " + key);
    }

    private Object invalid(YamlNode node, String key, String message) {
        problem(node.location(), key, message);
        return INVALID;
    }

    private void problem(Location where, String key, String message) {
        String k = key.endsWith(".") ? key.substring(0, key.length() - 1) : key;
        problems.add(new OptionProblem(where, component, k, message));
    }

    private <R extends Record> R construct(Class<R> type, Object[] args, String prefix, Location where) {
        Class<?>[] types =
                Arrays.stream(type.getRecordComponents()).map(c -> c.getType()).toArray(Class<?>[]::new);
        try {
            Constructor<R> ctor = type.getDeclaredConstructor(types);
            return ctor.newInstance(args);
        } catch (InvocationTargetException e) {
            // The record's own constructor rejected the combination (a cross-field rule).
            Throwable cause = e.getCause();
            problem(where, prefix, String.valueOf(cause.getMessage()));
            return null;
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(
                    "cannot construct options record " + type.getName() + " (is it public, in an exported package?)",
                    e);
        }
    }

    /** Article-prefixed type names for messages. */
    private static final class FakeName {
        static String of(Class<?> c) {
            String n = OptionField.typeName(c);
            return n.startsWith("one of") ? n : (n.matches("^[aeiou].*") ? "an " : "a ") + n.toLowerCase(Locale.ROOT);
        }
    }
}
