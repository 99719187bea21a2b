package io.tinyptq.backend.cpu.engine;

import io.tinyptq.api.spi.MiniBatches;

/**
 * Seeded mini-batch order ({@link MiniBatches}, shared by all backends so that a seed draws the same batches
 * everywhere) and {@link #gather}, which copies the rows of a batch into a graph input.
 */
public final class Batches {
    private final MiniBatches order;

    public Batches(int count, long seed) {
        this.order = new MiniBatches(count, seed);
    }

    /** Shuffles and returns the sample order of the next epoch (the same array each time). */
    public int[] nextEpoch() {
        return order.nextEpoch();
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
