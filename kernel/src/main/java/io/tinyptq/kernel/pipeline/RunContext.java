package io.tinyptq.kernel.pipeline;

import io.tinyptq.api.spi.CalibrationSet;
import io.tinyptq.api.spi.ComputeBackend;
import io.tinyptq.api.spi.ProgressListener;
import io.tinyptq.api.spi.StageContext;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Optional;
import java.util.SplittableRandom;

/** The kernel's {@link StageContext}: one per run, told which plugin is running so random streams stay apart. */
final class RunContext implements StageContext {
    private final long seed;
    private final CalibrationSet calibration;
    private final BoundBackend backend;
    private final RunOptions options;
    private String currentPlugin = "kernel";

    RunContext(long seed, CalibrationSet calibration, BoundBackend backend, RunOptions options) {
        this.seed = seed;
        this.calibration = calibration;
        this.backend = backend;
        this.options = options;
    }

    void enter(String stage, String plugin) {
        this.currentPlugin = stage + "/" + plugin;
    }

    String current() {
        return currentPlugin;
    }

    @Override
    public long seed() {
        return seed;
    }

    /**
     * Seeds a generator with SplitMix64's finalizer applied to the run seed combined with a 64-bit FNV-1a hash
     * of "stage/plugin/purpose": stable across JVMs and releases, and independent streams per purpose.
     */
    @Override
    public SplittableRandom random(String purpose) {
        return new SplittableRandom(mix(seed ^ fnv1a(currentPlugin + "/" + purpose)));
    }

    static long fnv1a(String s) {
        long h = 0xcbf29ce484222325L;
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return h;
    }

    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    @Override
    public CalibrationSet calibration() {
        return calibration;
    }

    @Override
    public BoundBackend backend() {
        return backend;
    }

    @Override
    public ProgressListener progress() {
        return options.progress();
    }

    @Override
    public void checkCancelled() {
        options.cancellation().check(currentPlugin);
    }

    @Override
    public Optional<Path> workDir() {
        return Optional.ofNullable(options.workDir());
    }

    /** A backend plugin with its options bound. */
    static <O extends Record> BoundBackend bind(ComputeBackend<O> plugin, Record options) {
        return BoundBackends.of(plugin, options);
    }
}
