package io.tinyptq.kernel.options;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import io.tinyptq.api.TinyPtqException;
import java.io.FilterReader;
import java.io.IOException;
import java.io.Reader;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * A YAML document as a tree that remembers where each key and value was written, so that every error can
 * point at a line and column. Built from Jackson's streaming YAML parser; duplicate keys are rejected.
 */
public sealed interface YamlNode {

    Location location();

    /** A short word for messages: "a map", "a list", "the string 'x'", "the number 3". */
    String describe();

    /** A scalar; {@code token} tells how YAML typed it (string, int, float, boolean, null). */
    record Scalar(String text, JsonToken token, Location location) implements YamlNode {
        public boolean isNull() {
            return token == JsonToken.VALUE_NULL;
        }

        @Override
        public String describe() {
            return switch (token) {
                case VALUE_NULL -> "an empty value";
                case VALUE_STRING -> "the string '" + text + "'";
                case VALUE_TRUE, VALUE_FALSE -> "the boolean " + text;
                default -> "the number " + text;
            };
        }
    }

    /** A mapping whose entries keep their order and key positions. */
    record MapNode(Map<String, Entry> entries, Location location) implements YamlNode {
        public MapNode {
            entries = Collections.unmodifiableMap(new LinkedHashMap<>(entries));
        }

        @Override
        public String describe() {
            return "a map";
        }
    }

    /** A key's position and its value. */
    record Entry(Location keyLocation, YamlNode value) {}

    record ListNode(List<YamlNode> items, Location location) implements YamlNode {
        public ListNode {
            items = List.copyOf(items);
        }

        @Override
        public String describe() {
            return "a list";
        }
    }

    /**
     * Most characters a YAML input may hold: recipes, sweeps and descriptors are a few KiB. Counted as the text is
     * read ({@link BoundedReader}), so a huge input (one 50 MB quoted value once took minutes and 6 GB) fails at
     * once; the YAML reader's own code point limit is checked only after a whole scalar is scanned.
     */
    int CODE_POINT_LIMIT = 1 << 20;

    /**
     * Parses one YAML document; syntax errors name the file, line and column. Input is bounded
     * ({@link #CODE_POINT_LIMIT}, nesting depth 64); aliases ({@code *name}) and a second document are refused
     * rather than read as text or ignored, since recipes need neither.
     */
    static YamlNode parse(Reader reader, String file) {
        LoaderOptions limits = new LoaderOptions();
        limits.setCodePointLimit(CODE_POINT_LIMIT);
        limits.setNestingDepthLimit(64);
        limits.setMaxAliasesForCollections(0);
        try (JsonParser p =
                YAMLFactory.builder().loaderOptions(limits).build().createParser(new BoundedReader(reader, file))) {
            JsonToken t = p.nextToken();
            if (t == null) {
                return new MapNode(Map.of(), new Location(file, 1, 1));
            }
            YamlNode root = read(p, file);
            if (p.nextToken() != null) {
                throw new TinyPtqException(at(p, file) + ": a second YAML document (after '---'); a file holds one");
            }
            return root;
        } catch (JsonProcessingException e) {
            JsonLocation l = e.getLocation();
            String where = l == null ? file : new Location(file, l.getLineNr(), l.getColumnNr()).toString();
            throw new TinyPtqException(where + ": not valid YAML: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new TinyPtqException(file + ": cannot read: " + e.getMessage(), e);
        } catch (YAMLException e) {
            // the reader's own limits (code points, nesting) surface this way
            throw new TinyPtqException(
                    file + ": not read: " + e.getMessage().lines().findFirst().orElse(""), e);
        }
    }

    private static Location at(JsonParser p, String file) {
        JsonLocation l = p.currentTokenLocation();
        return new Location(file, l.getLineNr(), l.getColumnNr());
    }

    private static YamlNode read(JsonParser p, String file) throws IOException {
        Location here = at(p, file);
        JsonToken t = p.currentToken();
        if (p instanceof YAMLParser y && y.isCurrentAlias()) {
            throw new TinyPtqException(
                    here + ": YAML alias '*" + p.getText() + "' is not supported; write the value" + " out");
        }
        if (t == JsonToken.START_OBJECT) {
            Map<String, Entry> entries = new LinkedHashMap<>();
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String key = p.currentName();
                Location keyAt = at(p, file);
                p.nextToken();
                YamlNode value = read(p, file);
                if (entries.putIfAbsent(key, new Entry(keyAt, value)) != null) {
                    throw new TinyPtqException(keyAt + ": key '" + key + "' appears twice (first at line "
                            + entries.get(key).keyLocation().line() + ")");
                }
            }
            return new MapNode(entries, here);
        }
        if (t == JsonToken.START_ARRAY) {
            List<YamlNode> items = new ArrayList<>();
            while (p.nextToken() != JsonToken.END_ARRAY) {
                items.add(read(p, file));
            }
            return new ListNode(items, here);
        }
        return new Scalar(t == JsonToken.VALUE_NULL ? "" : p.getText(), t, here);
    }

    /** Fails once more than {@link #CODE_POINT_LIMIT} characters have been read. */
    final class BoundedReader extends FilterReader {
        private final String file;
        private long read;

        BoundedReader(Reader in, String file) {
            super(in);
            this.file = file;
        }

        @Override
        public int read() throws IOException {
            int c = super.read();
            count(c < 0 ? 0 : 1);
            return c;
        }

        @Override
        public int read(char[] buf, int off, int len) throws IOException {
            int n = super.read(buf, off, len);
            count(Math.max(n, 0));
            return n;
        }

        private void count(int n) {
            read += n;
            if (read > CODE_POINT_LIMIT) {
                throw new TinyPtqException(file + ": longer than " + CODE_POINT_LIMIT + " characters; a recipe,"
                        + " sweep or descriptor is a few KiB");
            }
        }
    }
}
