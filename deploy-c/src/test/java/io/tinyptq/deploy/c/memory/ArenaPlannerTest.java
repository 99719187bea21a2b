package io.tinyptq.deploy.c.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyptq.deploy.c.memory.ArenaPlanner.Buffer;
import io.tinyptq.deploy.c.memory.ArenaPlanner.Plan;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link ArenaPlanner}: arenas derived by hand (the placement is traced in the comments) and the invariants of a
 * plan over random graphs.
 */
class ArenaPlannerTest {

    private static Buffer buf(String name, long bytes, int first, int last) {
        return new Buffer(name, bytes, first, last);
    }

    private static void assertOffsets(Plan plan, Map<String, Long> expected) {
        assertEquals(expected, plan.offsets());
    }

    /**
     * A chain t0 -> t1 -> t2 -> t3, t_i live in steps i..i+1: t0 100 [0,1], t1 200 [1,2], t2 50 [2,3], t3 300 [3,4].
     * Largest first: t3 (300) at 0, nothing placed. t1 (200) is not live with t3 (steps 1..2 vs 3..4): 0. t0 (100)
     * is live with t1 at [0,200): 0 + 100 > 0, so past it, 200. t2 (50) is live with t3 [0,300) and t1 [0,200):
     * past both, 300. Arena = max(300, 200, 200 + 100, 300 + 50) = 350, which is the peak (step 3: t2 + t3 = 350;
     * step 1: 300, step 2: 250).
     */
    @Test
    void chainOfFour() {
        List<Buffer> chain =
                List.of(buf("t0", 100, 0, 1), buf("t1", 200, 1, 2), buf("t2", 50, 2, 3), buf("t3", 300, 3, 4));
        Plan plan = ArenaPlanner.plan(chain, 1);
        assertEquals(350, plan.arenaBytes());
        assertOffsets(plan, Map.of("t0", 200L, "t1", 0L, "t2", 300L, "t3", 0L));
        assertEquals(List.of("t0", "t1", "t2", "t3"), List.copyOf(plan.offsets().keySet()), "offsets in input order");
        // Aligned to 16: t0 past t1 at align(200) = 208, t2 past t3 at align(300) = 304; arena 304 + 50 = 354.
        Plan aligned = ArenaPlanner.plan(chain, 16);
        assertEquals(354, aligned.arenaBytes());
        assertOffsets(aligned, Map.of("t0", 208L, "t1", 0L, "t2", 304L, "t3", 0L));
    }

    /**
     * A residual block: op0 reads in, writes a; op1 reads a, writes b; op2 reads b, writes c; op3 adds a and c into
     * out. Lifetimes: in 96 [0,0], a 64 [0,3] (the skip), b 128 [1,2], c 48 [2,3], out 64 [3,3].
     * Order by size, ties by first use: b 128, in 96, a 64 (first use 0), out 64 (first use 3), c 48.
     * b at 0. in is not live with b: 0. a is live with b [0,128) and in [0,96): past both, 128. out is live only
     * with a [128,192): 0 + 64 <= 128 fits below it, 0. c is live with b [0,128), out [0,64), a [128,192): past b
     * and out to 128, 128 + 48 > 128, past a to 192. Arena 192 + 48 = 240, the peak at step 2 (a + b + c).
     */
    @Test
    void forkJoinResidual() {
        List<Buffer> block = List.of(
                buf("in", 96, 0, 0), buf("a", 64, 0, 3), buf("b", 128, 1, 2), buf("c", 48, 2, 3), buf("out", 64, 3, 3));
        Plan plan = ArenaPlanner.plan(block, 1);
        assertEquals(240, plan.arenaBytes());
        assertOffsets(plan, Map.of("in", 0L, "a", 128L, "b", 0L, "c", 192L, "out", 0L));
        // The skip a never shares bytes with c, which op3 reads together with it, nor with out, which op3 writes.
        assertInvariants(block, 1, plan);
    }

    /**
     * Alignment 4, odd sizes: p 13 [0,1], q 7 [1,2], r 5 [0,2], s 3 [2,2]. p at 0. q live with p [0,13): align(13) =
     * 16. r live with p [0,13) and q [16,23): 0 + 5 > 0, to 16; 16 + 5 > 16, to align(23) = 24. s live with q
     * [16,23) and r [24,29), not p: 0 + 3 <= 16, so 0. Arena 24 + 5 = 29 (unaligned end; only offsets align).
     */
    @Test
    void alignmentFourWithOddSizes() {
        List<Buffer> odd = List.of(buf("p", 13, 0, 1), buf("q", 7, 1, 2), buf("r", 5, 0, 2), buf("s", 3, 2, 2));
        Plan plan = ArenaPlanner.plan(odd, 4);
        assertEquals(29, plan.arenaBytes());
        assertOffsets(plan, Map.of("p", 0L, "q", 16L, "r", 24L, "s", 0L));
        // Unaligned the same buffers pack tight: q 13, r past q at 20, s at 0; arena 25.
        Plan tight = ArenaPlanner.plan(odd, 1);
        assertEquals(25, tight.arenaBytes());
        assertOffsets(tight, Map.of("p", 0L, "q", 13L, "r", 20L, "s", 0L));
    }

    /**
     * A hole below a live buffer, made by alignment and reused: alignment 8, g 9 [0,0] at 0; h 6 [0,1] live with g
     * [0,9): align(9) = 16; k 6 [1,1] live only with h [16,22) (g is dead by step 1): 0 + 6 <= 16, so 0. Arena 22.
     */
    @Test
    void alignedHoleBelowALiveBuffer() {
        List<Buffer> buffers = List.of(buf("g", 9, 0, 0), buf("h", 6, 0, 1), buf("k", 6, 1, 1));
        Plan plan = ArenaPlanner.plan(buffers, 8);
        assertOffsets(plan, Map.of("g", 0L, "h", 16L, "k", 0L));
        assertEquals(22, plan.arenaBytes());
    }

    /**
     * Zero-byte buffers take no room: they sort last and sit at offset 0 over whatever is live (their range
     * [0, 0) is empty), leaving the other offsets and the arena as without them.
     */
    @Test
    void zeroByteBuffers() {
        List<Buffer> with = List.of(
                buf("t0", 100, 0, 1),
                buf("e0", 0, 0, 4),
                buf("t1", 200, 1, 2),
                buf("t2", 50, 2, 3),
                buf("e1", 0, 2, 2),
                buf("t3", 300, 3, 4));
        Plan plan = ArenaPlanner.plan(with, 16);
        assertEquals(354, plan.arenaBytes());
        assertOffsets(plan, Map.of("t0", 208L, "t1", 0L, "t2", 304L, "t3", 0L, "e0", 0L, "e1", 0L));
        assertInvariants(with, 16, plan);

        Plan allEmpty = ArenaPlanner.plan(List.of(buf("a", 0, 0, 0), buf("b", 0, 0, 5)), 8);
        assertEquals(0, allEmpty.arenaBytes());
        assertOffsets(allEmpty, Map.of("a", 0L, "b", 0L));

        Plan nothing = ArenaPlanner.plan(List.of(), 4);
        assertEquals(0, nothing.arenaBytes());
        assertTrue(nothing.offsets().isEmpty());
    }

    /** Buffers live in the same single step all stack; buffers in disjoint steps all share offset 0. */
    @Test
    void allLiveStackAndDisjointShare() {
        Plan stacked = ArenaPlanner.plan(List.of(buf("a", 10, 5, 5), buf("b", 30, 5, 5), buf("c", 20, 5, 5)), 1);
        // b 30 at 0, c 20 at 30, a 10 at 50.
        assertOffsets(stacked, Map.of("a", 50L, "b", 0L, "c", 30L));
        assertEquals(60, stacked.arenaBytes());
        Plan shared = ArenaPlanner.plan(List.of(buf("a", 10, 0, 0), buf("b", 30, 1, 1), buf("c", 20, 2, 2)), 1);
        assertOffsets(shared, Map.of("a", 0L, "b", 0L, "c", 0L));
        assertEquals(30, shared.arenaBytes());
    }

    /** Equal sizes are ordered by first use, then by name: the earlier (or alphabetically first) goes lower. */
    @Test
    void tiesByFirstUseThenName() {
        Plan byUse = ArenaPlanner.plan(List.of(buf("late", 8, 1, 2), buf("early", 8, 0, 2)), 1);
        assertOffsets(byUse, Map.of("early", 0L, "late", 8L));
        Plan byName = ArenaPlanner.plan(List.of(buf("zeta", 8, 0, 2), buf("alpha", 8, 0, 2)), 1);
        assertOffsets(byName, Map.of("alpha", 0L, "zeta", 8L));
    }

    @ParameterizedTest(name = "alignment {0}")
    @ValueSource(ints = {0, -1, -4, 3, 6, 12, Integer.MIN_VALUE})
    void alignmentMustBeAPowerOfTwo(int alignment) {
        var e = assertThrows(
                IllegalArgumentException.class, () -> ArenaPlanner.plan(List.of(buf("a", 1, 0, 0)), alignment));
        assertTrue(e.getMessage().contains("power of two"), e.getMessage());
    }

    @Test
    void malformedBuffersAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> buf("neg", -1, 0, 0));
        var e = assertThrows(IllegalArgumentException.class, () -> buf("back", 4, 3, 2));
        assertTrue(e.getMessage().contains("back"), e.getMessage());
    }

    /**
     * Buffers are known by name, so two with one name are refused. Before, {@code [a 10, a 20]} planned an arena of
     * 30 with a single offset for "a", and {@code [x 10 [0,1], x 10 [0,1], y 10 [0,1]]} (the same record twice)
     * put y at 0 over the first x: three 10-byte buffers live together in an arena of 20.
     */
    @Test
    void duplicateNamesAreRefused() {
        var e = assertThrows(
                IllegalArgumentException.class,
                () -> ArenaPlanner.plan(List.of(buf("a", 10, 0, 0), buf("a", 20, 0, 0)), 1));
        assertTrue(e.getMessage().contains("a"), e.getMessage());
        assertThrows(
                IllegalArgumentException.class,
                () -> ArenaPlanner.plan(List.of(buf("x", 10, 0, 1), buf("x", 10, 0, 1), buf("y", 10, 0, 1)), 1));
    }

    // ---- property test over random graphs ----

    /**
     * A random graph of {@code ops} ops: tensor 0 is the model input, op k (step k) reads one or two distinct
     * earlier tensors (mostly recent ones, sometimes far back: skips) and writes tensor k + 1. A tensor is live
     * from the step that writes it (the input: step 0) to the last step that reads it; one that nothing reads (a
     * model output) is live in its own step only, the last op's output to the end.
     */
    static List<Buffer> randomGraph(SplittableRandom random, int ops) {
        int tensors = ops + 1;
        int[] first = new int[tensors];
        int[] last = new int[tensors];
        for (int t = 1; t < tensors; t++) {
            first[t] = t - 1;
            last[t] = t - 1;
        }
        for (int k = 0; k < ops; k++) {
            int available = k + 1; // tensors 0..k
            int reads = available >= 2 && random.nextInt(3) == 0 ? 2 : 1;
            int a = pick(random, available);
            last[a] = Math.max(last[a], k);
            if (reads == 2) {
                int b;
                do {
                    b = pick(random, available);
                } while (b == a);
                last[b] = Math.max(last[b], k);
            }
        }
        List<Buffer> buffers = new ArrayList<>();
        for (int t = 0; t < tensors; t++) {
            long bytes = switch (random.nextInt(10)) {
                case 0 -> 0;
                case 1 -> 1 + random.nextInt(8);
                case 2, 3 -> 1 << random.nextInt(4, 12);
                default -> 1 + random.nextInt(4096);
            };
            buffers.add(buf("t" + t, bytes, first[t], last[t]));
        }
        return buffers;
    }

    /** Mostly the latest tensor, sometimes a random earlier one. */
    private static int pick(SplittableRandom random, int available) {
        int r = random.nextInt(4);
        if (r < 2) {
            return available - 1;
        }
        if (r == 2) {
            return Math.max(0, available - 1 - random.nextInt(3));
        }
        return random.nextInt(available);
    }

    private static long align(long v, int alignment) {
        return (v + alignment - 1) / alignment * alignment;
    }

    private static boolean live(Buffer a, Buffer b) {
        return a.firstUse() <= b.lastUse() && b.firstUse() <= a.lastUse();
    }

    private static boolean overlap(long offA, long bytesA, long offB, long bytesB) {
        return offA < offB + bytesB && offB < offA + bytesA;
    }

    /** The invariants any plan must keep, and the greedy rule this planner promises. */
    static void assertInvariants(List<Buffer> buffers, int alignment, Plan plan) {
        Map<String, Long> off = plan.offsets();
        assertEquals(buffers.size(), off.size());
        assertEquals(buffers.stream().map(Buffer::name).toList(), List.copyOf(off.keySet()), "input order");
        long maxEnd = 0;
        long sumAligned = 0;
        for (Buffer b : buffers) {
            long o = off.get(b.name());
            assertTrue(o >= 0, b.name());
            assertEquals(0, o % alignment, b.name() + " at " + o + " is not aligned to " + alignment);
            maxEnd = Math.max(maxEnd, o + b.bytes());
            sumAligned += align(b.bytes(), alignment);
        }
        assertEquals(maxEnd, plan.arenaBytes(), "arena is the highest end");
        for (int i = 0; i < buffers.size(); i++) {
            Buffer a = buffers.get(i);
            for (int j = i + 1; j < buffers.size(); j++) {
                Buffer b = buffers.get(j);
                if (live(a, b)) {
                    assertFalse(
                            overlap(off.get(a.name()), a.bytes(), off.get(b.name()), b.bytes()),
                            () -> a + " at " + off.get(a.name()) + " overlaps " + b + " at " + off.get(b.name()));
                }
            }
        }
        // Lower bound: the bytes live at once in any step.
        int steps = buffers.stream().mapToInt(Buffer::lastUse).max().orElse(-1);
        long peak = 0;
        for (int s = 0; s <= steps; s++) {
            long liveBytes = 0;
            for (Buffer b : buffers) {
                if (b.firstUse() <= s && s <= b.lastUse()) {
                    liveBytes += b.bytes();
                }
            }
            peak = Math.max(peak, liveBytes);
        }
        assertTrue(plan.arenaBytes() >= peak, "arena " + plan.arenaBytes() + " below the peak " + peak);
        // Upper bound: no worse than every buffer end to end (each padded to the alignment; exactly the sum of the
        // sizes at alignment 1).
        assertTrue(plan.arenaBytes() <= sumAligned, "arena " + plan.arenaBytes() + " above " + sumAligned);
        // Greedy: in the planner's order (largest first, then first use, then name), each buffer sits at the lowest
        // candidate offset (0 or the aligned end of a live buffer placed before it) that overlaps none of them.
        List<Buffer> order = new ArrayList<>(buffers);
        order.sort(Comparator.comparingLong(Buffer::bytes)
                .reversed()
                .thenComparingInt(Buffer::firstUse)
                .thenComparing(Buffer::name));
        for (int i = 0; i < order.size(); i++) {
            Buffer b = order.get(i);
            List<Buffer> before =
                    order.subList(0, i).stream().filter(p -> live(p, b)).toList();
            List<Long> candidates = new ArrayList<>();
            candidates.add(0L);
            for (Buffer p : before) {
                candidates.add(align(off.get(p.name()) + p.bytes(), alignment));
            }
            long lowest = candidates.stream()
                    .sorted()
                    .filter(c -> before.stream().noneMatch(p -> overlap(c, b.bytes(), off.get(p.name()), p.bytes())))
                    .findFirst()
                    .orElseThrow();
            assertEquals(lowest, off.get(b.name()), () -> b + " is not at its lowest free offset");
        }
    }

    @Test
    void randomGraphsKeepTheInvariants() {
        SplittableRandom random = new SplittableRandom(20261206L);
        int[] alignments = {1, 1, 2, 4, 8, 16, 64};
        for (int g = 0; g < 500; g++) {
            int ops = 1 + random.nextInt(40);
            List<Buffer> buffers = randomGraph(random, ops);
            int alignment = alignments[random.nextInt(alignments.length)];
            Plan plan = ArenaPlanner.plan(buffers, alignment);
            int graph = g;
            try {
                assertInvariants(buffers, alignment, plan);
            } catch (AssertionError e) {
                throw new AssertionError("graph " + graph + " (alignment " + alignment + "): " + buffers, e);
            }
            // An op's output never shares bytes with its inputs: each tensor's producing step is in its lifetime,
            // so every input read at that step is live with it; covered by the overlap check above.

            // Deterministic: the same input plans the same; so does the same set of buffers in another order.
            assertEquals(plan, ArenaPlanner.plan(List.copyOf(buffers), alignment));
            List<Buffer> shuffled = new ArrayList<>(buffers);
            Collections.shuffle(shuffled, new Random(g));
            Plan other = ArenaPlanner.plan(shuffled, alignment);
            assertEquals(plan.arenaBytes(), other.arenaBytes());
            assertEquals(plan.offsets(), other.offsets());
        }
    }

    /** Live ranges drawn freely (not from a graph): many overlapping long-lived buffers, the hard case for gaps. */
    @Test
    void randomIntervalsKeepTheInvariants() {
        SplittableRandom random = new SplittableRandom(7L);
        for (int g = 0; g < 300; g++) {
            int n = 1 + random.nextInt(30);
            int steps = 1 + random.nextInt(12);
            List<Buffer> buffers = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                int a = random.nextInt(steps);
                int b = random.nextInt(steps);
                buffers.add(buf("b" + i, random.nextInt(0, 300), Math.min(a, b), Math.max(a, b)));
            }
            int alignment = 1 << random.nextInt(6);
            Plan plan = ArenaPlanner.plan(buffers, alignment);
            assertInvariants(buffers, alignment, plan);
            assertEquals(plan, ArenaPlanner.plan(buffers, alignment));
        }
    }

    /** The plan is immutable. */
    @Test
    void offsetsAreUnmodifiable() {
        Plan plan = ArenaPlanner.plan(List.of(buf("a", 4, 0, 0)), 4);
        assertThrows(UnsupportedOperationException.class, () -> plan.offsets().put("b", 0L));
    }
}
