package io.tinyptq.api.spi;

import java.nio.file.Path;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * What the kernel hands a stage plugin: calibration data, the compute backend, a seed, progress and
 * cancellation. Plugins draw every random number from {@link #random(String)} so that a run is reproducible
 * from its seed.
 */
public interface StageContext {

    /** The run's seed. */
    long seed();

    /**
     * A generator derived from the run's seed, the running plugin and {@code purpose}: the same purpose gives
     * the same stream in every run with that seed, independent of other plugins' draws.
     */
    SplittableRandom random(String purpose);

    CalibrationSet calibration();

    /** The backend chosen for the run, with its options bound. */
    BoundBackend backend();

    ProgressListener progress();

    /** Throws {@link io.tinyptq.api.CancelledException} if the run was cancelled; call it between units of work. */
    void checkCancelled();

    /** A directory where the plugin may keep checkpoints for resuming, when the run has one. */
    Optional<Path> workDir();

    /** A backend together with its options, so plugins need not know the option type. */
    interface BoundBackend {
        BackendInfo info();

        ModelExecutor compile(
                io.tinyptq.api.model.Model model, io.tinyptq.api.quant.QuantizedModel quantized, int maxBatch);

        /** See {@link ComputeBackend#train}. */
        TrainingSession train(TrainingProblem problem, TrainingSettings settings);
    }
}
