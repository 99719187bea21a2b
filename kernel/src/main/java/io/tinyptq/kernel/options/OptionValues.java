package io.tinyptq.kernel.options;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Options records as plain trees (maps with recipe keys, lists, scalars) for YAML output and listings. */
public final class OptionValues {
    private OptionValues() {}

    /** {@code options} as a map from recipe key to plain value; enums in recipe spelling. */
    public static Map<String, Object> toTree(Record options) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (OptionField f : OptionField.of(options.getClass())) {
            Object v = plain(f.get(options));
            if (v != null) {
                out.put(f.key(), v);
            }
        }
        return out;
    }

    /** A single option value in recipe form. */
    public static Object plain(Object v) {
        if (v instanceof Record r) {
            return toTree(r);
        }
        if (v instanceof Enum<?> e) {
            return Names.enumValue(e);
        }
        if (v instanceof List<?> list) {
            List<Object> out = new ArrayList<>();
            for (Object o : list) {
                out.add(plain(o));
            }
            return out;
        }
        return v;
    }
}
