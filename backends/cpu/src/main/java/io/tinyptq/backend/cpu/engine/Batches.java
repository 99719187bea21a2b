package io.tinyptq.backend.cpu.engine;

import java.util.SplittableRandom;

/**
 * Seeded mini-batch order: each {@link #nextEpoch()} is a Fisher-Yates permutation of {@code [0, count)} drawn
 * from a {@link SplittableRandom} seeded once, so a run is reproducible from its seed. {@link #gather} copies the
 * rows of a batch into a graph input.
 */
public final class Batches {
    private final int[] order;
    private final SplittableRandom random;

    public Batches(int count, long seed) {
        if (count < 1) {
            throw new IllegalArgumentException("need at least one sample, got " + count);
        }
        this.order = new int[count];
        for (int i = 0; i < count; i++) {
            order[i] = i;
        }
        this.random = new SplittableRandom(seed);
    }

    /** Shuffles and returns the sample order of the next epoch (the same array each time). */
    public int[] nextEpoch() {
        for (int i = order.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return order;
    }

    /** Copies rows {@code order[from..from+n)} of {@code src} (rows of {@code rowSize}) into {@code dst}. */
    public static void gather(float[] src, int rowSize, int[] order, int from, int n, float[] dst) {
        for (int i = 0; i < n; i++) {
            System.arraycopy(src, order[from + i] * rowSize, dst, i * rowSize, rowSize);
        }
    }

    /** Copies labels {@code order[from..from+n)} into {@code dst}. */
    public static void gather(int[] src, int[] order, int from, int n, int[] dst) {
        for (int i = 0; i < n; i++) {
            dst[i] = src[order[from + i]];
        }
    }
}
