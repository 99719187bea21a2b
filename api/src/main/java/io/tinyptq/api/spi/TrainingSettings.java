package io.tinyptq.api.spi;

/**
 * Adam and mini-batch settings of a {@link TrainingSession}. Mini-batches are drawn with replacement of batch
 * order from a generator seeded with {@code seed}, so a session is reproducible.
 *
 * @param learningRate Adam step size
 * @param batchSize    samples per step
 * @param seed         seed of the mini-batch draws
 */
public record TrainingSettings(double learningRate, int batchSize, long seed) {
    public TrainingSettings {
        if (!(learningRate > 0) || batchSize < 1) {
            throw new IllegalArgumentException("learning rate must be > 0 and batch size >= 1, got " + learningRate
                    + " and " + batchSize);
        }
    }
}
