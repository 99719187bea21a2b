package io.tinyptq.cli;

import java.nio.file.Files;
import java.nio.file.Path;

/** Default locations: data under ../shared/data when it exists, descriptors in ./datasets. */
final class Defaults {
    private Defaults() {
    }

    static Path dataRoot(Path given) {
        if (given != null) {
            return given;
        }
        Path shared = Path.of("..", "shared", "data");
        return Files.isDirectory(shared) ? shared : Path.of(".");
    }

    static Path datasets(Path given) {
        return given != null ? given : Path.of("datasets");
    }

    /** Opens a dataset given by descriptor name or file, with the default folders when none are given. */
    static io.tinyptq.api.spi.Dataset openDataset(io.tinyptq.kernel.registry.PluginRegistry registry, String nameOrFile,
                                                  Path datasets, Path dataRoot) {
        return io.tinyptq.kernel.data.DatasetDescriptors.open(registry,
                io.tinyptq.kernel.data.DatasetDescriptors.resolve(nameOrFile, datasets(datasets)), dataRoot(dataRoot));
    }
}
