package io.tinyptq.api.spi;

import java.nio.file.Path;

/** Opens datasets of one storage layout from a descriptor. */
public interface DatasetProvider<O extends Record> extends Plugin<O> {
    /**
     * Opens the dataset described by {@code descriptor}; file paths in it are relative to {@code dataRoot}.
     * A truncated or mis-sized file fails with the expected and actual sizes.
     */
    Dataset open(Path descriptor, Path dataRoot, O options);
}
