package io.tinyptq.plugins.datasets;

import io.tinyptq.api.TinyPtqException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;

/**
 * A list of record indices from a descriptor's {@code indices} or {@code exclude} key: either a range
 * {@code start..end} (end exclusive) or a file with one index per line. Index files may have a header line and
 * further comma-separated columns (the MLPerf index CSVs: {@code test_bin_index,name,label}); the first column is
 * the index. Blank lines and {@code #} comments are skipped.
 */
final class IndexList {
    private static final Pattern RANGE = Pattern.compile("^(\\d+)\\.\\.(\\d+)$");

    private IndexList() {}

    static int[] read(Descriptor d, String key, int records, DataFiles files) {
        String value = d.string(key);
        Matcher m = RANGE.matcher(value);
        if (m.matches()) {
            // Digits past a long's range are past any record count too.
            long start = m.group(1).length() > 18 ? Long.MAX_VALUE : Long.parseLong(m.group(1));
            long end = m.group(2).length() > 18 ? Long.MAX_VALUE : Long.parseLong(m.group(2));
            if (start > end || end > records) {
                throw new TinyPtqException(d.where(key) + ": range " + value + " must satisfy start <= end <= "
                        + records + " (the number of records)");
            }
            return IntStream.range((int) start, (int) end).toArray();
        }
        Path file = files.resolve(d, key);
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new TinyPtqException("cannot read index file " + file + ": " + e.getMessage(), e);
        }
        IntStream.Builder out = IntStream.builder();
        boolean first = true;
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String field = line.split(",", 2)[0].strip();
            int index;
            try {
                index = Integer.parseInt(field);
            } catch (NumberFormatException e) {
                if (first) {
                    first = false;
                    continue;
                }
                throw new TinyPtqException(file + ":" + (i + 1) + ": '" + field + "' is not a record index");
            }
            first = false;
            if (index < 0 || index >= records) {
                throw new TinyPtqException(file + ":" + (i + 1) + ": index " + index + " is outside 0.." + (records - 1)
                        + " (the data holds " + records + " records)");
            }
            out.add(index);
        }
        return out.build().toArray();
    }
}
