package io.tinyptq.deploy.c.memory;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Places every activation buffer in one arena, greedy by size as TFLite Micro's {@code GreedyMemoryPlanner} does:
 * buffers sorted by size (largest first; ties by first use, then name), each placed at the lowest aligned offset
 * where it overlaps no buffer already placed whose lifetime intersects its own. The arena is the highest end of
 * any buffer, the model's peak RAM for tensors.
 *
 * <p>A buffer is live from the step that writes it to the last step that reads it, both inclusive; an op's
 * output is therefore never placed over one of its inputs.
 */
public final class ArenaPlanner {
    private ArenaPlanner() {}

    /** A buffer to place: its bytes and the steps it is live in, {@code firstUse <= lastUse}. */
    public record Buffer(String name, long bytes, int firstUse, int lastUse) {
        public Buffer {
            if (bytes < 0 || firstUse > lastUse) {
                throw new IllegalArgumentException(
                        "buffer " + name + ": " + bytes + " bytes live in steps " + firstUse + ".." + lastUse);
            }
        }

        boolean liveWith(Buffer o) {
            return firstUse <= o.lastUse && o.firstUse <= lastUse;
        }
    }

    /** Where each buffer lies; {@code offsets} in the order the buffers were given. */
    public record Plan(long arenaBytes, Map<String, Long> offsets) {
        public Plan {
            offsets = Collections.unmodifiableMap(new LinkedHashMap<>(offsets));
        }
    }

    /** Plans {@code buffers}, named uniquely, with offsets aligned to {@code alignment} bytes (a power of two). */
    public static Plan plan(List<Buffer> buffers, int alignment) {
        if (alignment < 1 || Integer.bitCount(alignment) != 1) {
            throw new IllegalArgumentException("alignment must be a power of two, got " + alignment);
        }
        Set<String> names = new HashSet<>();
        for (Buffer b : buffers) {
            if (!names.add(b.name())) {
                throw new IllegalArgumentException("two buffers named " + b.name());
            }
        }
        List<Buffer> order = new ArrayList<>(buffers);
        order.sort(Comparator.comparingLong(Buffer::bytes)
                .reversed()
                .thenComparingInt(Buffer::firstUse)
                .thenComparing(Buffer::name));
        Map<Buffer, Long> placed = new LinkedHashMap<>();
        long arena = 0;
        for (Buffer b : order) {
            // Live neighbours already placed, by offset: try the gaps between them from the bottom up.
            List<Map.Entry<Buffer, Long>> live = new ArrayList<>();
            for (var e : placed.entrySet()) {
                if (e.getKey().liveWith(b)) {
                    live.add(e);
                }
            }
            live.sort(Map.Entry.comparingByValue());
            long offset = 0;
            for (var e : live) {
                if (offset + b.bytes() <= e.getValue() || b.bytes() == 0) {
                    break;
                }
                offset = Math.max(offset, align(e.getValue() + e.getKey().bytes(), alignment));
            }
            placed.put(b, offset);
            arena = Math.max(arena, offset + b.bytes());
        }
        Map<String, Long> offsets = new LinkedHashMap<>();
        for (Buffer b : buffers) {
            offsets.put(b.name(), placed.get(b));
        }
        return new Plan(arena, offsets);
    }

    private static long align(long v, int alignment) {
        return (v + alignment - 1) & -(long) alignment;
    }
}
