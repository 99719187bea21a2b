package io.tinyptq.cli;

import io.tinyptq.api.TinyPtqException;
import io.tinyptq.api.spi.Dataset;
import io.tinyptq.kernel.data.DatasetDescriptors;
import io.tinyptq.kernel.registry.PluginRegistry;
import java.nio.file.Files;
import java.nio.file.Path;

/** Default locations: data under ../shared/data when it exists, descriptors in ./datasets. */
final class Defaults {
    private Defaults() {}

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

    /**
     * An output folder option ({@code --out}), checked before any work starts, so that results that cannot be
     * written are never lost at the end of a long command: the path, or the nearest part of it that exists, must be a
     * folder. Returns {@code out}.
     */
    static Path outFolder(String option, Path out) {
        if (out == null) {
            return null;
        }
        Path existing = nearestExisting(out);
        if (existing != null && !Files.isDirectory(existing)) {
            throw new TinyPtqException(
                    option + " " + out + ": " + (existing.equals(out) ? "is a file" : existing + " is a file")
                            + "; name a folder (new or existing) to write the results into");
        }
        return out;
    }

    /** An output file option ({@code export -o}), checked before any work: not a folder, in a folder. */
    static Path outFile(String option, Path out) {
        if (Files.isDirectory(out)) {
            throw new TinyPtqException(option + " " + out + ": is a folder; name the file to write");
        }
        Path parent = out.toAbsolutePath().getParent();
        Path existing = parent == null ? null : nearestExisting(parent);
        if (existing != null && !Files.isDirectory(existing)) {
            throw new TinyPtqException(
                    option + " " + out + ": " + existing + " is a file, not a folder" + " to write into");
        }
        return out;
    }

    private static Path nearestExisting(Path p) {
        for (Path q = p.toAbsolutePath(); q != null; q = q.getParent()) {
            if (Files.exists(q)) {
                return q.equals(p.toAbsolutePath()) ? p : q;
            }
        }
        return null;
    }

    /** A {@code --limit} of samples: 0 means all; a negative count is a mistake, as in every command. */
    static int limit(int limit) {
        if (limit < 0) {
            throw new TinyPtqException(
                    "--limit is " + limit + "; expected a number of samples >= 0" + " (0: all samples)");
        }
        return limit;
    }

    /** Opens a dataset given by descriptor name or file, with the default folders when none are given. */
    static Dataset openDataset(PluginRegistry registry, String nameOrFile, Path datasets, Path dataRoot) {
        return DatasetDescriptors.open(
                registry, DatasetDescriptors.resolve(nameOrFile, datasets(datasets)), dataRoot(dataRoot));
    }
}
