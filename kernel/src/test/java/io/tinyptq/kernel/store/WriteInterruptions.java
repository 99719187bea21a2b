package io.tinyptq.kernel.store;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Stops {@link AtomicFiles} writers at a file boundary, as a kill there would, for tests of what is left behind. */
public final class WriteInterruptions {
    /** Thrown at the boundary where a writer is stopped. */
    public static final class Stopped extends RuntimeException {
        Stopped(Path after) {
            super("stopped after " + after);
        }
    }

    private WriteInterruptions() {}

    /** Runs {@code writer}, stopping it once {@code files} files are in place; returns the files written, in order. */
    public static List<Path> stopAfter(int files, Runnable writer) {
        List<Path> written = new ArrayList<>();
        AtomicFiles.AFTER_EACH_FILE.set(f -> {
            written.add(f);
            if (written.size() == files) {
                throw new Stopped(f);
            }
        });
        try {
            writer.run();
        } catch (Stopped expected) {
            // the simulated kill
        } finally {
            AtomicFiles.AFTER_EACH_FILE.remove();
        }
        return written;
    }
}
