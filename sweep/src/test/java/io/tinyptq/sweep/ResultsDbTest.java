package io.tinyptq.sweep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyptq.sweep.fakes.FakeTrials;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ResultsDbTest {

    @Test
    void aFileThatIsNotSqliteIsRefusedNamingTheFileAndWhatWasExpected(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("results.db");
        Files.writeString(f, "model,accuracy\nresnet8,86.1\n", StandardCharsets.UTF_8);
        ResultsDbException e = assertThrows(ResultsDbException.class, () -> ResultsDb.open(f));
        assertTrue(e.getMessage().startsWith(f + " is not an SQLite database"), e.getMessage());
        assertTrue(e.getMessage().contains("it starts with 'model,accuracy.r'"), e.getMessage());
        assertTrue(e.getMessage().contains("expected a " + ResultsDb.FORMAT + " database"), e.getMessage());
        // The file is left as it was.
        assertEquals("model,accuracy\nresnet8,86.1\n", Files.readString(f));
    }

    @Test
    void aForeignSqliteDatabaseIsRefusedListingItsTables(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("other.db");
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + f);
                Statement s = c.createStatement()) {
            s.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)");
        }
        ResultsDbException e = assertThrows(ResultsDbException.class, () -> ResultsDb.open(f));
        assertTrue(
                e.getMessage().contains(f + " is an SQLite database but not a tinyptq sweep database"), e.getMessage());
        assertTrue(e.getMessage().contains("[invoices]"), e.getMessage());
        assertTrue(e.getMessage().contains("schema version " + ResultsDb.SCHEMA_VERSION), e.getMessage());
    }

    @Test
    void aNewerSchemaVersionIsRefused(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("results.db");
        ResultsDb.open(f).close();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + f);
                Statement s = c.createStatement()) {
            s.execute("UPDATE " + ResultsDb.META + " SET value = '99' WHERE key = 'schema_version'");
        }
        ResultsDbException e = assertThrows(ResultsDbException.class, () -> ResultsDb.open(f));
        assertTrue(
                e.getMessage().contains(f + " holds a " + ResultsDb.FORMAT + " database of schema version 99"),
                e.getMessage());
    }

    @Test
    void aDamagedDatabaseIsRefusedNamingTheFile(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("results.db");
        try (ResultsDb db = ResultsDb.open(f)) {
            for (Trial t : FakeTrials.trials(50)) {
                db.claim(t);
                db.finish(t, FakeTrials.report(t));
            }
        }
        // Checkpointed into the main file by close; now overwrite everything after the first page's header.
        byte[] bytes = Files.readAllBytes(f);
        for (int i = 100; i < bytes.length; i++) {
            bytes[i] = (byte) (i * 31);
        }
        Files.write(f, bytes);
        Files.deleteIfExists(dir.resolve("results.db-wal"));
        Files.deleteIfExists(dir.resolve("results.db-shm"));
        ResultsDbException e = assertThrows(ResultsDbException.class, () -> ResultsDb.open(f));
        assertTrue(e.getMessage().startsWith(f.toString()), e.getMessage());
        assertTrue(e.getMessage().contains(ResultsDb.FORMAT), e.getMessage());
    }

    /** An empty file is not a database to report on, and stays empty: SQLite would write a header into it. */
    @Test
    void reportOnAnEmptyOrForeignFileFailsWithoutWritingIntoIt(@TempDir Path dir) throws Exception {
        Path empty = Files.createFile(dir.resolve("empty.db"));
        ResultsDbException e = assertThrows(ResultsDbException.class, () -> ResultsDb.openExisting(empty));
        assertEquals(
                empty + " is empty (0 bytes), not a results database; expected the SQLite file that 'tinyptq"
                        + " sweep' writes, by default OUT/results.db",
                e.getMessage());
        assertEquals(0, Files.size(empty));
        assertEquals(List.of(empty), listing(dir));
        Path text = Files.writeString(dir.resolve("notes.db"), "hello");
        e = assertThrows(ResultsDbException.class, () -> ResultsDb.openExisting(text));
        assertTrue(e.getMessage().startsWith(text + " is not an SQLite database"), e.getMessage());
        assertEquals("hello", Files.readString(text));
        assertEquals(List.of(empty, text), listing(dir));
    }

    private static List<Path> listing(Path dir) throws java.io.IOException {
        try (var s = Files.list(dir)) {
            return s.sorted().toList();
        }
    }

    @Test
    void reportOnAMissingDatabaseSaysSo(@TempDir Path dir) {
        Path f = dir.resolve("none.db");
        ResultsDbException e = assertThrows(ResultsDbException.class, () -> ResultsDb.openExisting(f));
        assertTrue(e.getMessage().contains(f + ": no such results database"), e.getMessage());
        assertTrue(Files.notExists(f));
    }

    @Test
    void aRowHoldsEverySettingMetricAndTheProvenance(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("results.db");
        Trial t = FakeTrials.trial(4);
        try (ResultsDb db = ResultsDb.open(f)) {
            assertEquals(ResultsDb.Claim.RUN, db.claim(t));
            assertEquals("running", db.status(t.key()));
            db.finish(t, FakeTrials.report(t));
            assertEquals(ResultsDb.Claim.DONE, db.claim(t));
        }
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + f);
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT status, model, method, weight_bits, activation_bits, seed,"
                        + " overrides, fp_accuracy, accuracy, accuracy_drop, bops, bop_saving, memory_bits,"
                        + " json_extract(seconds_json, '$.optimize'), total_seconds,"
                        + " json_extract(provenance_json, '$.backend.simd_lanes'), json_extract(report_json, '$.accuracy'),"
                        + " attempts FROM trials")) {
            assertTrue(rs.next());
            assertEquals("done", rs.getString(1));
            assertEquals(t.model(), rs.getString(2));
            assertEquals(t.method(), rs.getString(3));
            assertEquals(4, rs.getInt(4));
            assertEquals(4, rs.getInt(5));
            assertEquals(4, rs.getLong(6));
            assertEquals("[\"seed=4\"]", rs.getString(7));
            assertEquals(90.0, rs.getDouble(8));
            assertEquals(80.5, rs.getDouble(9), 1e-12);
            assertEquals(9.5, rs.getDouble(10), 1e-12);
            assertEquals(16_000, rs.getLong(11));
            assertEquals(100.0 * (1 - 16_000.0 / 1_024_000), rs.getDouble(12), 1e-9);
            assertEquals(400, rs.getLong(13));
            assertEquals(1.25, rs.getDouble(14));
            assertEquals(2.0, rs.getDouble(15));
            assertEquals(16, rs.getInt(16));
            assertEquals(80.5, rs.getDouble(17), 1e-12);
            assertEquals(1, rs.getInt(18));
        }
    }

    /**
     * Two sweeps write one database at once, each from its own connection and thread, over overlapping trials:
     * no write fails, every trial ends done exactly once per claim, and the file passes SQLite's integrity check.
     */
    @Test
    void twoConcurrentWritersDoNotCorruptTheDatabase(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("results.db");
        List<Trial> trials = FakeTrials.trials(120);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        List<Future<Integer>> ran = new ArrayList<>();
        try {
            for (int w = 0; w < 2; w++) {
                // Writer 0 takes trials 0..89, writer 1 trials 30..119: 60 trials are wanted by both.
                List<Trial> mine = w == 0 ? trials.subList(0, 90) : trials.subList(30, 120);
                Callable<Integer> writer = () -> {
                    int n = 0;
                    try (ResultsDb db = ResultsDb.open(f)) {
                        for (Trial t : mine) {
                            if (db.claim(t) == ResultsDb.Claim.RUN) {
                                db.finish(t, FakeTrials.report(t));
                                n++;
                            }
                        }
                    }
                    return n;
                };
                ran.add(pool.submit(writer));
            }
            int total = ran.get(0).get() + ran.get(1).get();
            assertEquals(120, total, "each trial ran by exactly one writer");
        } finally {
            pool.shutdownNow();
        }
        try (ResultsDb db = ResultsDb.open(f)) {
            assertEquals(120, db.finished().size());
        }
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + f);
                Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("PRAGMA integrity_check")) {
                assertTrue(rs.next());
                assertEquals("ok", rs.getString(1));
            }
            try (ResultSet rs = s.executeQuery("PRAGMA journal_mode")) {
                assertTrue(rs.next());
                assertEquals("wal", rs.getString(1));
            }
            try (ResultSet rs = s.executeQuery("SELECT max(attempts), count(*) FROM trials WHERE status = 'done'")) {
                assertTrue(rs.next());
                assertEquals(1, rs.getInt(1));
                assertEquals(120, rs.getInt(2));
            }
        }
    }
}
