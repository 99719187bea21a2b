package io.tinyptq.testkit;

import io.tinyptq.api.model.Model;
import io.tinyptq.api.options.NoOptions;
import io.tinyptq.api.quant.QuantizedModel;
import io.tinyptq.api.spi.BackendInfo;
import io.tinyptq.api.spi.CalibrationSet;
import io.tinyptq.api.spi.ComputeBackend;
import io.tinyptq.api.spi.ModelExecutor;
import io.tinyptq.api.spi.ProgressListener;
import io.tinyptq.api.spi.StageContext;
import io.tinyptq.api.spi.TrainingProblem;
import io.tinyptq.api.spi.TrainingSession;
import io.tinyptq.api.spi.TrainingSettings;
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
        this(seed, calibration, new ReferenceBackend(), NoOptions.INSTANCE);
    }

    /** A context running on {@code backend} with {@code options}. */
    public <O extends Record> TestContext(long seed, CalibrationSet calibration, ComputeBackend<O> backend, O options) {
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

    private static <O extends Record> BoundBackend bind(ComputeBackend<O> b, O options) {
        return new BoundBackend() {
            @Override
            public BackendInfo info() {
                return b.info(options);
            }

            @Override
            public ModelExecutor compile(Model model, QuantizedModel quantized, int maxBatch) {
                return b.compile(model, quantized, maxBatch, options);
            }

            @Override
            public TrainingSession train(TrainingProblem problem, TrainingSettings settings) {
                return b.train(problem, settings, options);
            }
        };
    }

    @Override
    public ProgressListener progress() {
        return ProgressListener.NONE;
    }

    @Override
    public void checkCancelled() {}

    @Override
    public Optional<Path> workDir() {
        return Optional.empty();
    }
}
