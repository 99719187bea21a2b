package io.tinyptq.api.spi;

/** Learning-rate schedules shared by the plugins that train. */
public final class LearningRates {
    private LearningRates() {}

    /**
     * Cosine annealing from {@code lr} at step 0 to 0 at step {@code total} (PyTorch's CosineAnnealingLR with
     * eta_min 0, as BRECQ's and QDrop's code schedule the activation step sizes).
     */
    public static double cosine(double lr, int step, int total) {
        return lr * 0.5 * (1 + Math.cos(Math.PI * step / total));
    }
}
