package io.tinyptq.kernel.store;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.UUID;
import java.util.function.Consumer;

/**
 * Writes results so that a process killed at any moment leaves either the old file or the new one, never a mix or a
 * truncated file: each file is written beside its target under a temporary name, forced to disk, then renamed over
 * the target in one atomic step (POSIX {@code rename}). Files that belong together say so themselves (a stored
 * model's {@code model.json} holds the SHA-256 of its {@code constants.bin}; a run folder's {@code report.json} is
 * written last), since a set of renames is not atomic.
 */
public final class AtomicFiles {
    /** Prefix of the temporary names, so that leftovers of a killed write are recognizable. */
    static final String TEMPORARY = ".tmp-";

    /**
     * Called with each file once it is in place: a test stops the writer there (as a kill would) to check what
     * every boundary between files leaves behind. Unset outside such tests.
     */
    static final ThreadLocal<Consumer<Path>> AFTER_EACH_FILE = new ThreadLocal<>();

    private AtomicFiles() {}

    /** What writes a file's content. */
    @FunctionalInterface
    public interface Content {
        void writeTo(OutputStream out) throws IOException;
    }

    public static void writeString(Path file, String text) throws IOException {
        write(file, out -> out.write(text.getBytes(StandardCharsets.UTF_8)));
    }

    public static void write(Path file, byte[] bytes) throws IOException {
        write(file, out -> out.write(bytes));
    }

    /** Writes {@code file} through a temporary file in its folder, forced to disk, then renamed over it. */
    public static void write(Path file, Content content) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = dir.resolve(TEMPORARY + UUID.randomUUID() + "-" + file.getFileName());
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
                    OutputStream out = Channels.newOutputStream(ch)) {
                // Writers may close what they are given (Jackson does): keep the channel open for the force.
                content.writeTo(new FilterOutputStream(out) {
                    @Override
                    public void write(byte[] b, int off, int len) throws IOException {
                        out.write(b, off, len);
                    }

                    @Override
                    public void close() throws IOException {
                        flush();
                    }
                });
                out.flush();
                ch.force(true);
            }
            move(tmp, file);
            Consumer<Path> hook = AFTER_EACH_FILE.get();
            if (hook != null) {
                hook.accept(file);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException | FileAlreadyExistsException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
