package io.tinyptq.kernel.options;

import io.tinyptq.api.options.Option;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One component of an options record seen as a recipe key: its snake_case key, Java type, element type for
 * lists, and its {@link Option} rules (an unannotated component has no rules and an empty description).
 */
public record OptionField(String key, RecordComponent component, Class<?> type, Type elementType, Option rules) {

    private static final Map<Class<?>, List<OptionField>> CACHE = new ConcurrentHashMap<>();

    /** The fields of an options record type, in declaration order. */
    public static List<OptionField> of(Class<? extends Record> type) {
        return CACHE.computeIfAbsent(type, t -> {
            List<OptionField> fields = new ArrayList<>();
            for (RecordComponent c : t.getRecordComponents()) {
                Type element = null;
                if (List.class.isAssignableFrom(c.getType())) {
                    if (!(c.getGenericType() instanceof ParameterizedType pt)) {
                        throw new IllegalArgumentException(
                                t.getName() + "." + c.getName() + ": a List option needs a type argument");
                    }
                    element = pt.getActualTypeArguments()[0];
                }
                fields.add(new OptionField(
                        Names.key(c.getName()), c, c.getType(), element, c.getAnnotation(Option.class)));
            }
            return Collections.unmodifiableList(fields);
        });
    }

    public String description() {
        return rules == null ? "" : rules.description();
    }

    /** Boxed numbers and booleans may be absent ({@code null}); lists default to empty. Others are required. */
    public boolean optional() {
        return OptionValidator.isBoxed(type) || List.class.isAssignableFrom(type);
    }

    public double min() {
        return rules == null ? Double.NEGATIVE_INFINITY : rules.min();
    }

    public double max() {
        return rules == null ? Double.POSITIVE_INFINITY : rules.max();
    }

    public String pattern() {
        return rules == null ? "" : rules.pattern();
    }

    /** The component's value in {@code record}. */
    public Object get(Record record) {
        try {
            return component.getAccessor().invoke(record);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(
                    "cannot read " + record.getClass().getName() + "." + component.getName()
                            + " (is its package exported?)",
                    e);
        }
    }

    /** A human name of the type: {@code integer}, {@code number}, {@code one of [a, b]}, {@code list of ...}. */
    public static String typeName(Type type) {
        if (type instanceof ParameterizedType pt) {
            return "list of " + typeName(pt.getActualTypeArguments()[0]);
        }
        Class<?> c = (Class<?>) type;
        if (c == int.class || c == Integer.class || c == long.class || c == Long.class) {
            return "integer";
        }
        if (c == double.class || c == Double.class || c == float.class || c == Float.class) {
            return "number";
        }
        if (c == boolean.class || c == Boolean.class) {
            return "boolean";
        }
        if (c == String.class) {
            return "string";
        }
        if (c.isEnum()) {
            List<String> values = new ArrayList<>();
            for (Object e : c.getEnumConstants()) {
                values.add(Names.enumValue((Enum<?>) e));
            }
            return "one of " + values;
        }
        if (c.isRecord()) {
            return "map";
        }
        return c.getSimpleName();
    }

    public String typeName() {
        return typeName(component.getGenericType());
    }
}
