package io.tinyptq.plugins.datasets;

import io.tinyptq.api.TinyPtqException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Resolving and opening the data files a descriptor names, with size checks that state expected and actual. */
final class DataFiles {
    private final Path root;

    /** @param root the data root relative paths resolve against */
    DataFiles(Path root) {
        this.root = root;
    }

    Path root() {
        return root;
    }

    /**
     * The file or folder named by {@code key}, under the data root; it must exist. A descriptor reads data inside its
     * data root only: a path that leaves it ({@code ../}, an absolute path elsewhere, a symbolic link pointing out)
     * is refused, so a descriptor from elsewhere cannot make tinyptq open, and echo in its messages, other files.
     */
    Path resolve(Descriptor d, String key) {
        return resolve(d, key, d.string(key));
    }

    Path resolve(Descriptor d, String key, String value) {
        Path p;
        try {
            p = root.resolve(value);
        } catch (InvalidPathException e) {
            throw new TinyPtqException(d.where(key) + ": " + key + " is not a valid path (" + e.getReason() + ")");
        }
        if (!Files.exists(p)) {
            throw new TinyPtqException(d.where(key) + ": " + key + " '" + value + "' does not exist: looked for " + p
                    + " (relative paths are under the data root " + root + ")");
        }
        try {
            Path real = p.toRealPath();
            Path realRoot = root.toRealPath();
            if (!real.startsWith(realRoot)) {
                throw new TinyPtqException(d.where(key) + ": " + key + " '" + value + "' is " + real + ", outside the"
                        + " data root " + realRoot + "; a descriptor reads files under its data root only (give"
                        + " --data-root a folder that holds the data)");
            }
            return real;
        } catch (IOException e) {
            throw new TinyPtqException(
                    d.where(key) + ": cannot resolve " + key + " '" + value + "': " + e.getMessage(), e);
        }
    }

    /** Maps {@code file} read-only, little-endian. Absolute gets on the buffer are safe from many threads. */
    static ByteBuffer map(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            if (ch.size() > Integer.MAX_VALUE) {
                throw new TinyPtqException(
                        "data file " + file + " holds " + ch.size() + " bytes; files over 2 GiB are not supported");
            }
            return ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size()).order(ByteOrder.LITTLE_ENDIAN);
        } catch (IOException e) {
            throw new TinyPtqException("cannot read data file " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * The number of {@code unit}-byte items in a file of {@code bytes} bytes; fails unless the size is a whole number
     * of items and, when {@code expectedCount >= 0}, exactly that many.
     */
    static int count(Path file, long bytes, long unit, int expectedCount, String what) {
        if (expectedCount >= 0 && bytes != expectedCount * unit) {
            throw new TinyPtqException("data file " + file + " holds " + bytes + " bytes but " + expectedCount + " "
                    + what + " of " + unit + " bytes need " + expectedCount * unit
                    + (bytes < expectedCount * unit ? " (truncated?)" : ""));
        }
        if (bytes % unit != 0) {
            throw new TinyPtqException("data file " + file + " holds " + bytes + " bytes, not a whole number of " + unit
                    + "-byte " + what + " (" + bytes / unit + " whole, " + bytes % unit + " bytes left over)");
        }
        return (int) (bytes / unit);
    }
}
