package io.tinyptq.kernel.options;

import java.util.Locale;

/** Java record component names ({@code betaStart}) as recipe keys ({@code beta_start}), and enum spellings. */
public final class Names {
    private Names() {}

    public static String key(String component) {
        StringBuilder sb = new StringBuilder();
        for (char c : component.toCharArray()) {
            if (Character.isUpperCase(c)) {
                sb.append('_').append(Character.toLowerCase(c));
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    public static String enumValue(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }
}
