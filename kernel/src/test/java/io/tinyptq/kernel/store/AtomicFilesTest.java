package io.tinyptq.kernel.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A write that dies half way leaves the previous file whole and no temporary file; a finished one replaces it. */
class AtomicFilesTest {

    @Test
    void aWriteThatFailsHalfWayLeavesTheOldFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("report.txt");
        AtomicFiles.writeString(file, "old results\n");
        IOException e = assertThrows(
                IOException.class,
                () -> AtomicFiles.write(file, out -> {
                    out.write("new res".getBytes());
                    throw new IOException("disk full");
                }));
        assertEquals("disk full", e.getMessage());
        assertEquals("old results\n", Files.readString(file));
        assertEquals(1, count(dir), "no temporary file is left");

        AtomicFiles.writeString(file, "new results\n");
        assertEquals("new results\n", Files.readString(file));
        assertEquals(1, count(dir));
    }

    @Test
    void writersThatCloseTheirStreamStillReachTheDisk(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("a").resolve("b.json");
        AtomicFiles.write(file, out -> {
            out.write('{');
            out.write("}".getBytes());
            out.close();
        });
        assertEquals("{}", Files.readString(file));
    }

    private static long count(Path dir) throws IOException {
        try (var files = Files.list(dir)) {
            return files.count();
        }
    }
}
