package io.tinyptq.api.spi;

import java.util.Set;

/**
 * Adam and mini-batch settings of a {@link TrainingSession}. Mini-batches are drawn with replacement of batch
 * order from a generator seeded with {@code seed}, so a session is reproducible.
 *
 * @param learningRate           Adam step size of the problem's {@link TrainingProblem#variables() variables}
 * @param batchSize              samples per step
 * @param seed                   seed of the mini-batch draws
 * @param activationLearningRate Adam step size of the activation quantizers' scales named in
 *                               {@code activationScales}, trained by a second Adam alongside the variables
 *                               (BRECQ, Li et al. 2021, learns the activation step sizes with LSQ jointly with
 *                               AdaRound's V, lr 4e-5); 0 when none trains
 * @param activationScales       the activation tensors whose quantizer scale trains with
 *                               {@code activationLearningRate} (their zero points stay fixed); tensors without a
 *                               quantizer in the problem's model are ignored; empty when none
 * @param biasLearningRate       where the problem trains biases ({@link Variable#BIASES}, or with
 *                               {@link Variable#WEIGHTS}), the Adam step size of the biases, trained by an Adam of
 *                               their own; 0 trains them with {@code learningRate} like the other variables
 *                               (AdaQuant's code steps biases 100 times faster than weights: a bias moves every
 *                               output of its channel, a weight one product)
 */
public record TrainingSettings(
        double learningRate,
        int batchSize,
        long seed,
        double activationLearningRate,
        Set<String> activationScales,
        double biasLearningRate) {
    public TrainingSettings {
        if (!(learningRate > 0) || batchSize < 1) {
            throw new IllegalArgumentException(
                    "learning rate must be > 0 and batch size >= 1, got " + learningRate + " and " + batchSize);
        }
        if (!(activationLearningRate >= 0)) {
            throw new IllegalArgumentException(
                    "the activation learning rate must be >= 0, got " + activationLearningRate);
        }
        activationScales = Set.copyOf(activationScales);
        if (activationLearningRate == 0 && !activationScales.isEmpty()) {
            throw new IllegalArgumentException(
                    "activation scales " + activationScales + " would train with learning rate 0");
        }
        if (!(biasLearningRate >= 0)) {
            throw new IllegalArgumentException("the bias learning rate must be >= 0, got " + biasLearningRate);
        }
    }

    /** Settings whose biases, if they train, take the variables' learning rate. */
    public TrainingSettings(
            double learningRate,
            int batchSize,
            long seed,
            double activationLearningRate,
            Set<String> activationScales) {
        this(learningRate, batchSize, seed, activationLearningRate, activationScales, 0);
    }

    /** Settings that train the problem's variables only. */
    public TrainingSettings(double learningRate, int batchSize, long seed) {
        this(learningRate, batchSize, seed, 0, Set.of(), 0);
    }
}
