package io.tinyptq.testkit;

import io.tinyptq.api.spi.CalibrationSet;
import io.tinyptq.api.spi.ProgressListener;
import io.tinyptq.api.spi.StageContext;
import java.nio.file.Path;
import java.util.Optional;
import java.util.SplittableRandom;

/** A {@link StageContext} for plugin unit tests: a seed, optional calibration data and the reference backend. */
public final class TestContext implements StageContext {
    private final long seed;
    private final CalibrationSet calibration;

    public TestContext(long seed, CalibrationSet calibration) {
        this.seed = seed;
        this.calibration = calibration;
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
        ReferenceBackend b = new ReferenceBackend();
        return new BoundBackend() {
            @Override
            public io.tinyptq.api.spi.BackendInfo info() {
                return b.info(b.defaultOptions());
            }

            @Override
            public io.tinyptq.api.spi.ModelExecutor compile(io.tinyptq.api.model.Model model,
                                                            io.tinyptq.api.quant.QuantizedModel quantized, int maxBatch) {
                return b.compile(model, quantized, maxBatch, b.defaultOptions());
            }

            @Override
            public io.tinyptq.api.spi.TrainingSession train(io.tinyptq.api.spi.TrainingProblem problem,
                                                            io.tinyptq.api.spi.TrainingSettings settings) {
                return b.train(problem, settings, b.defaultOptions());
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
