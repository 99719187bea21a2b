package io.tinyptq.kernel.options;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Checks an options record against its {@link io.tinyptq.api.options.Option} rules. The one validation used
 * both for recipes loaded from YAML (problems carry file positions) and for pipelines built in Java.
 */
public final class OptionValidator {
    private OptionValidator() {}

    /** Validates {@code options} built in code; throws {@link OptionsException} listing every problem. */
    public static void require(Record options, String component) {
        List<OptionProblem> problems = new ArrayList<>();
        validate(options, component, "", k -> Location.CODE, problems);
        if (!problems.isEmpty()) {
            throw new OptionsException(component, problems);
        }
    }

    /**
     * Appends a problem for every broken rule of {@code options}.
     *
     * @param component "stage optimize, plugin 'round'" and the like
     * @param prefix    the key path of {@code options} inside the component ("" at top level)
     * @param where     the position of a key path, or {@link Location#CODE}
     */
    public static void validate(
            Record options,
            String component,
            String prefix,
            Function<String, Location> where,
            List<OptionProblem> problems) {
        for (OptionField f : OptionField.of(options.getClass())) {
            String key = prefix + f.key();
            check(f, f.get(options), key, component, where, problems);
        }
    }

    private static void check(
            OptionField f,
            Object value,
            String key,
            String component,
            Function<String, Location> where,
            List<OptionProblem> problems) {
        if (value == null) {
            if (!isBoxed(f.type())) {
                problems.add(new OptionProblem(where.apply(key), component, key, "a value is required, found none"));
            }
            return;
        }
        if (value instanceof Number n) {
            double v = n.doubleValue();
            if (Double.isNaN(v)) {
                problems.add(new OptionProblem(where.apply(key), component, key, "must be a number, found NaN"));
            } else if (v < f.min()) {
                problems.add(new OptionProblem(
                        where.apply(key), component, key, "must be >= " + fmt(f.min()) + ", found " + value));
            } else if (v > f.max()) {
                problems.add(new OptionProblem(
                        where.apply(key), component, key, "must be <= " + fmt(f.max()) + ", found " + value));
            }
        } else if (value instanceof String s) {
            if (!f.pattern().isEmpty() && !Pattern.matches(f.pattern(), s)) {
                problems.add(new OptionProblem(
                        where.apply(key), component, key, "must match " + f.pattern() + ", found '" + s + "'"));
            }
        } else if (value instanceof Record r) {
            validate(r, component, key + ".", where, problems);
        } else if (value instanceof List<?> list) {
            if (list.size() < f.min() || list.size() > f.max()) {
                problems.add(new OptionProblem(
                        where.apply(key),
                        component,
                        key,
                        "must hold between " + fmt(f.min()) + " and " + fmt(f.max()) + " items, found " + list.size()));
            }
            for (int i = 0; i < list.size(); i++) {
                Object item = list.get(i);
                if (item instanceof Record r) {
                    validate(r, component, key + "[" + i + "].", where, problems);
                } else if (item == null) {
                    problems.add(new OptionProblem(
                            where.apply(key), component, key + "[" + i + "]", "list items must not be empty"));
                }
            }
        } else if (value instanceof Map<?, ?>) {
            throw new IllegalArgumentException(
                    "option " + key + " of " + component + ": Map components are not supported; use a record");
        }
    }

    static boolean isBoxed(Class<?> c) {
        return c == Integer.class || c == Long.class || c == Double.class || c == Float.class || c == Boolean.class;
    }

    static String fmt(double d) {
        return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
    }
}
