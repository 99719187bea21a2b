package io.tinyptq.api.spi;

import java.util.SplittableRandom;

/**
 * The seeded mini-batch order every backend's {@link TrainingSession} draws from: each {@link #nextEpoch()} is a
 * Fisher-Yates permutation of {@code [0, count)} from a {@link SplittableRandom} seeded once. Backends share it so
 * that the same problem, settings and seed visit the same samples in the same order on any backend (the CPU
 * backend is the oracle of the others).
 */
public final class MiniBatches {
    private final int[] order;
    private final SplittableRandom random;

    public MiniBatches(int count, long seed) {
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
}
