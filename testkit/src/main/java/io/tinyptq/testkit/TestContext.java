package io.tinyptq.testkit;

import io.tinyptq.api.spi.CalibrationSet;
import io.tinyptq.api.spi.ProgressListener;
import io.tinyptq.api.spi.StageContext;
import java.nio.file.Path;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * A {@link StageContext} for plugin unit tests: a seed, optional calibration data and the reference backend (or, for
 * tests outside the plugins that need training, a backend of their choice).
 */
public final class TestContext implements StageContext {
    private final long seed;
    private final CalibrationSet calibration;
    private final BoundBackend backend;

    public TestContext(long seed, CalibrationSet calibration) {
        this(seed, calibration, new ReferenceBackend(), io.tinyptq.api.options.NoOptions.INSTANCE);
    }

    /** A context running on {@code backend} with {@code options}. */
    public <O extends Record> TestContext(long seed, CalibrationSet calibration, io.tinyptq.api.spi.ComputeBackend<O> backend,
                           O options) {
        this.seed = seed;
        this.calibration = calibration;
        this.backend = bind(backend, options);
    }

    public static TestContext seeded(long seed) {
        return new TestContext(seed, null);
    }

    @Override
    public long seed() {
        return seed;
    }

    @Override
    public SplittableRandom random(String purpose) {
        return new SplittableRandom(seed * 31 + purpose.hashCode());
    }

    @Override
    public CalibrationSet calibration() {
        if (calibration == null) {
            throw new IllegalStateException("this test context has no calibration data");
        }
        return calibration;
    }

    @Override
    public BoundBackend backend() {
        return backend;
    }

    private static <O extends Record> BoundBackend bind(io.tinyptq.api.spi.ComputeBackend<O> b, O options) {
        return new BoundBackend() {
            @Override
            public io.tinyptq.api.spi.BackendInfo info() {
                return b.info(options);
            }

            @Override
            public io.tinyptq.api.spi.ModelExecutor compile(io.tinyptq.api.model.Model model,
                                                            io.tinyptq.api.quant.QuantizedModel quantized, int maxBatch) {
                return b.compile(model, quantized, maxBatch, options);
            }

            @Override
            public io.tinyptq.api.spi.TrainingSession train(io.tinyptq.api.spi.TrainingProblem problem,
                                                            io.tinyptq.api.spi.TrainingSettings settings) {
                return b.train(problem, settings, options);
            }
        };
    }

    @Override
    public ProgressListener progress() {
        return ProgressListener.NONE;
    }

    @Override
    public void checkCancelled() {
    }

    @Override
    public Optional<Path> workDir() {
        return Optional.empty();
    }
}
