package io.tinyptq.plugins.datasets;

import io.tinyptq.api.TinyPtqException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A dataset descriptor: a flat YAML file of {@code key: value} lines, read strictly.
 *
 * <p>The grammar is the subset of YAML these descriptors need, so that plugins parse it without a YAML library:
 * <pre>
 *   line   := blank | '#' comment | key ':' [value] [' #' comment]      (keys start in column 0)
 *   key    := [a-z][a-z0-9_]*
 *   value  := scalar | '[' scalar (',' scalar)* ']'
 *   scalar := plain text (spaces allowed) | "double quoted" | 'single quoted'
 * </pre>
 * A key given twice, a line of any other form, an unknown key, a missing required key or a value of the wrong
 * type fails with {@code file:line} and, for unknown keys, the keys the layout knows.
 */
final class Descriptor {
    private static final Pattern LINE = Pattern.compile("^([a-z][a-z0-9_]*):(?:\\s+(.*))?$");

    /** One value and the line it came from. */
    record Entry(String key, String raw, List<String> items, int line) {
        boolean isList() {
            return items != null;
        }
    }

    private final Path file;
    private final Map<String, Entry> entries;

    private Descriptor(Path file, Map<String, Entry> entries) {
        this.file = file;
        this.entries = entries;
    }

    static Descriptor read(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new TinyPtqException("dataset descriptor " + file + " does not exist");
        } catch (IOException e) {
            throw new TinyPtqException("cannot read dataset descriptor " + file + ": " + e.getMessage(), e);
        }
        Map<String, Entry> entries = new LinkedHashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            int n = i + 1;
            String line = lines.get(i).stripTrailing();
            if (line.isBlank() || line.stripLeading().startsWith("#")) {
                continue;
            }
            if (line.equals("---") && entries.isEmpty()) {
                continue;
            }
            Matcher m = LINE.matcher(line);
            if (!m.matches()) {
                throw new TinyPtqException(file + ":" + n + ": expected 'key: value' with the key in column 0 (keys are"
                        + " lower case; nesting is not supported), found '" + line.strip() + "'");
            }
            String key = m.group(1);
            String value = stripComment(m.group(2) == null ? "" : m.group(2), file, n);
            Entry previous = entries.get(key);
            if (previous != null) {
                throw new TinyPtqException(
                        file + ":" + n + ": key '" + key + "' is given twice (first on line " + previous.line() + ")");
            }
            if (value.startsWith("[")) {
                if (!value.endsWith("]")) {
                    throw new TinyPtqException(
                            file + ":" + n + ": list value of '" + key + "' must end with ']' on the" + " same line");
                }
                String inner = value.substring(1, value.length() - 1).strip();
                List<String> items = new ArrayList<>();
                if (!inner.isEmpty()) {
                    for (String item : inner.split(",", -1)) {
                        items.add(unquote(item.strip(), file, n));
                    }
                }
                entries.put(key, new Entry(key, value, items, n));
            } else {
                entries.put(key, new Entry(key, unquote(value, file, n), null, n));
            }
        }
        return new Descriptor(file, entries);
    }

    /** Drops a trailing {@code " #..."} comment that is not inside quotes. */
    private static String stripComment(String value, Path file, int line) {
        char quote = 0;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (quote != 0) {
                if (c == quote) {
                    quote = 0;
                }
            } else if (c == '"' || c == '\'') {
                quote = c;
            } else if (c == '#' && (i == 0 || Character.isWhitespace(value.charAt(i - 1)))) {
                return value.substring(0, i).strip();
            }
        }
        if (quote != 0) {
            throw new TinyPtqException(file + ":" + line + ": unterminated " + quote + " quote");
        }
        return value.strip();
    }

    private static String unquote(String s, Path file, int line) {
        if (s.length() >= 2 && (s.charAt(0) == '"' || s.charAt(0) == '\'')) {
            if (s.charAt(s.length() - 1) != s.charAt(0)) {
                throw new TinyPtqException(file + ":" + line + ": unterminated quote in " + s);
            }
            return s.substring(1, s.length() - 1);
        }
        return s;
    }

    Path file() {
        return file;
    }

    /** Fails on the first key not in {@code known}, naming the line and the known keys. */
    void requireOnly(Set<String> known, String layout) {
        for (Entry e : entries.values()) {
            if (!known.contains(e.key())) {
                throw new TinyPtqException(file + ":" + e.line() + ": unknown key '" + e.key() + "' for layout '"
                        + layout + "'; known keys: " + String.join(", ", new TreeSet<>(known)));
            }
        }
    }

    boolean has(String key) {
        return entries.containsKey(key);
    }

    Entry entry(String key) {
        Entry e = entries.get(key);
        if (e == null) {
            throw new TinyPtqException(file + ": required key '" + key + "' is missing");
        }
        return e;
    }

    /** {@code file:line} of a key, for messages about its value. */
    String where(String key) {
        Entry e = entries.get(key);
        return e == null ? file.toString() : file + ":" + e.line();
    }

    String string(String key) {
        Entry e = entry(key);
        if (e.isList() || e.raw().isEmpty()) {
            throw new TinyPtqException(where(key) + ": '" + key + "' needs a single value, found '" + e.raw() + "'");
        }
        return e.raw();
    }

    String string(String key, String absent) {
        return has(key) ? string(key) : absent;
    }

    int integer(String key, int min) {
        String s = string(key);
        int v;
        try {
            v = Integer.parseInt(s);
        } catch (NumberFormatException e) {
            throw new TinyPtqException(where(key) + ": '" + key + "' must be an integer, found '" + s + "'");
        }
        if (v < min) {
            throw new TinyPtqException(where(key) + ": '" + key + "' must be >= " + min + ", found " + v);
        }
        return v;
    }

    float number(String key, float absent) {
        if (!has(key)) {
            return absent;
        }
        String s = string(key);
        try {
            float v = Float.parseFloat(s);
            if (!Float.isFinite(v)) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            throw new TinyPtqException(where(key) + ": '" + key + "' must be a finite number, found '" + s + "'");
        }
    }

    List<String> list(String key) {
        Entry e = entry(key);
        if (!e.isList()) {
            throw new TinyPtqException(
                    where(key) + ": '" + key + "' needs a list such as [a, b], found '" + e.raw() + "'");
        }
        return e.items();
    }

    int[] integers(String key) {
        List<String> items = list(key);
        int[] v = new int[items.size()];
        for (int i = 0; i < v.length; i++) {
            try {
                v[i] = Integer.parseInt(items.get(i));
            } catch (NumberFormatException e) {
                throw new TinyPtqException(
                        where(key) + ": '" + key + "' must list integers, found '" + items.get(i) + "'");
            }
        }
        return v;
    }
}
