package io.tinyptq.sweep;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The little JSON the database columns need (string lists, number maps), written without a library. */
final class Json {
    private Json() {}

    static String string(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }

    static String strings(List<String> list) {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < list.size(); i++) {
            b.append(i > 0 ? "," : "").append(string(list.get(i)));
        }
        return b.append(']').toString();
    }

    static String numbers(Map<String, Double> map) {
        StringBuilder b = new StringBuilder("{");
        map.forEach((k, v) -> b.append(b.length() > 1 ? "," : "")
                .append(string(k))
                .append(':')
                .append(Double.isFinite(v) ? Double.toString(v) : "null"));
        return b.append('}').toString();
    }
}
