package io.tinyptq.kernel.pipeline;

import io.tinyptq.api.spi.ProgressListener;
import java.nio.file.Path;
import java.util.Objects;

/**
 * How to run a pipeline, beyond the recipe: where progress goes, how to cancel, and where plugins may keep
 * checkpoints (null: nowhere).
 */
public record RunOptions(ProgressListener progress, CancellationToken cancellation, Path workDir) {
    public RunOptions {
        Objects.requireNonNull(progress);
        Objects.requireNonNull(cancellation);
    }

    public static RunOptions defaults() {
        return new RunOptions(ProgressListener.NONE, new CancellationToken(), null);
    }
}
