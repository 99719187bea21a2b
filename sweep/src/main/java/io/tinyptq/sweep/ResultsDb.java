package io.tinyptq.sweep;

import io.tinyptq.kernel.Versions;
import io.tinyptq.kernel.run.PtqRun;
import io.tinyptq.kernel.run.RunReport;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A sweep's results: one embedded SQLite file, a row per trial (table {@code trials}) with every setting, every
 * metric and the provenance, and a {@code tinyptq_sweep_db} table naming the format and schema version.
 *
 * <p>Safety: WAL journal, a busy timeout, and every claim in a {@code BEGIN IMMEDIATE} transaction, so several
 * sweep processes can share one file. A trial's row is written {@code running} (with its owner: a random id,
 * host and process id, and a heartbeat) when it starts and {@code done} in one statement when it finishes;
 * killing a sweep leaves only its in-flight rows {@code running}, and a later sweep takes those over once their
 * owner is gone (same host: the process has exited; other hosts: no heartbeat for {@link #LEASE}). Failed and
 * cancelled trials run again too; {@code done} trials are skipped.
 */
public final class ResultsDb implements AutoCloseable {
    public static final String FORMAT = "tinyptq-sweep-results";
    public static final int SCHEMA_VERSION = 1;
    static final String META = "tinyptq_sweep_db";
    static final Duration LEASE = Duration.ofMinutes(5);
    private static final byte[] SQLITE_MAGIC = "SQLite format 3\0".getBytes(StandardCharsets.US_ASCII);
    /** Owners open in this process: a row of one of these is in flight, whatever its heartbeat. */
    private static final Set<String> LIVE_OWNERS = ConcurrentHashMap.newKeySet();

    private static final String HOST = host();
    private static final long PID = ProcessHandle.current().pid();

    /** What {@link #claim} decided. */
    public enum Claim {
        /** The caller owns the trial now and runs it. */
        RUN,
        /** Finished earlier: skip. */
        DONE,
        /** Another live sweep is running it: skip. */
        BUSY
    }

    private final Path file;
    private final Connection conn;
    private final String owner = UUID.randomUUID().toString();
    private final ScheduledExecutorService heartbeat;

    private ResultsDb(Path file, Connection conn) {
        this.file = file;
        this.conn = conn;
        LIVE_OWNERS.add(owner);
        this.heartbeat = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "tinyptq-sweep-heartbeat");
            t.setDaemon(true);
            return t;
        });
        heartbeat.scheduleAtFixedRate(this::beat, 30, 30, TimeUnit.SECONDS);
    }

    public Path file() {
        return file;
    }

    /** Opens a results database, creating it (and its folder) when the file is missing or empty. */
    public static ResultsDb open(Path file) {
        return open(file, true);
    }

    /**
     * Opens an existing results database for reading (reports): fails when the file is missing.
     */
    public static ResultsDb openExisting(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new ResultsDbException(file + ": no such results database (expected the SQLite file that"
                    + " 'tinyptq sweep' writes, by default OUT/results.db)");
        }
        try {
            if (Files.size(file) == 0) {
                // SQLite would take an empty file for a new database and write its header into it.
                throw new ResultsDbException(file + " is empty (0 bytes), not a results database; expected the SQLite"
                        + " file that 'tinyptq sweep' writes, by default OUT/results.db");
            }
        } catch (IOException e) {
            throw new ResultsDbException(file + ": cannot read the results database: " + e.getMessage(), e);
        }
        return open(file, false);
    }

    private static ResultsDb open(Path file, boolean create) {
        checkHeader(file);
        try {
            if (file.toAbsolutePath().getParent() != null) {
                Files.createDirectories(file.toAbsolutePath().getParent());
            }
        } catch (IOException e) {
            throw new ResultsDbException(
                    file + ": cannot create the folder of the results database: " + e.getMessage(), e);
        }
        Connection c = null;
        try {
            Properties p = new Properties();
            p.setProperty("busy_timeout", "60000");
            // autoCommit(false) transactions begin IMMEDIATE: the write lock is taken up front, so two writers
            // queue on the busy timeout instead of failing to upgrade a read lock.
            p.setProperty("transaction_mode", "IMMEDIATE");
            c = DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath(), p);
            try (Statement s = c.createStatement()) {
                s.execute("PRAGMA busy_timeout = 60000");
                String check = quickCheck(s);
                if (!"ok".equals(check)) {
                    throw new ResultsDbException(file + ": the SQLite file is damaged (integrity check: " + check
                            + "); expected a " + FORMAT + " database; move it away to start a new one");
                }
                if (create) {
                    // A reader (report) changes nothing in the file, not even its journal mode.
                    s.execute("PRAGMA journal_mode = WAL");
                    s.execute("PRAGMA synchronous = NORMAL");
                }
            }
            ResultsDb db = new ResultsDb(file, c);
            db.initSchema(create);
            return db;
        } catch (SQLException e) {
            closeQuietly(c);
            throw new ResultsDbException(
                    file + ": not a usable " + FORMAT + " database (SQLite says: " + e.getMessage()
                            + "); expected the SQLite file that 'tinyptq sweep' writes",
                    e);
        } catch (RuntimeException e) {
            closeQuietly(c);
            throw e;
        }
    }

    private static String quickCheck(Statement s) throws SQLException {
        try (ResultSet rs = s.executeQuery("PRAGMA quick_check")) {
            List<String> lines = new ArrayList<>();
            while (rs.next() && lines.size() < 3) {
                lines.add(rs.getString(1));
            }
            return String.join("; ", lines);
        }
    }

    /** A non-empty file that does not start with SQLite's header is not ours, whatever it is. */
    private static void checkHeader(Path file) {
        if (!Files.exists(file)) {
            return;
        }
        if (Files.isDirectory(file)) {
            throw new ResultsDbException(file + " is a folder; expected an SQLite results database file");
        }
        byte[] head;
        try (InputStream in = Files.newInputStream(file)) {
            head = in.readNBytes(SQLITE_MAGIC.length);
        } catch (IOException e) {
            throw new ResultsDbException(file + ": cannot read the results database: " + e.getMessage(), e);
        }
        if (head.length > 0 && !Arrays.equals(head, SQLITE_MAGIC)) {
            throw new ResultsDbException(file + " is not an SQLite database (it does not start with the SQLite"
                    + " header; it starts with " + printable(head) + "); expected a " + FORMAT + " database as"
                    + " 'tinyptq sweep --db' writes. Name a new file, or move this one away.");
        }
    }

    private static String printable(byte[] head) {
        StringBuilder b = new StringBuilder("'");
        for (byte x : head) {
            b.append(x >= 0x20 && x < 0x7f ? (char) x : '.');
        }
        return b.append('\'').toString();
    }

    private void initSchema(boolean create) throws SQLException {
        List<String> tables = new ArrayList<>();
        try (Statement s = conn.createStatement();
                ResultSet rs = s.executeQuery("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")) {
            while (rs.next()) {
                tables.add(rs.getString(1));
            }
        }
        if (tables.isEmpty()) {
            if (!create) {
                throw new ResultsDbException(file + " is an empty SQLite database; expected a " + FORMAT
                        + " database with finished trials (run 'tinyptq sweep' first)");
            }
            create();
            return;
        }
        if (!tables.contains(META)) {
            throw new ResultsDbException(file + " is an SQLite database but not a tinyptq sweep database: it has"
                    + " the tables " + tables + " and no '" + META + "' table; expected a " + FORMAT
                    + " database (schema version " + SCHEMA_VERSION + "). Name another file with --db.");
        }
        String format = meta("format");
        String version = meta("schema_version");
        if (!FORMAT.equals(format)) {
            throw new ResultsDbException(
                    file + ": table '" + META + "' says format '" + format + "'; expected '" + FORMAT + "'");
        }
        if (!String.valueOf(SCHEMA_VERSION).equals(version)) {
            throw new ResultsDbException(file + " holds a " + FORMAT + " database of schema version " + version
                    + "; this tinyptq (" + Versions.tinyptq() + ") reads and writes version " + SCHEMA_VERSION);
        }
        if (!tables.contains("trials")) {
            throw new ResultsDbException(file + ": the " + FORMAT + " database has no 'trials' table (damaged?);"
                    + " expected tables " + List.of(META, "trials"));
        }
    }

    private String meta(String key) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement("SELECT value FROM " + META + " WHERE key = ?")) {
            ps.setString(1, key);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    private void create() throws SQLException {
        conn.setAutoCommit(false);
        try (Statement s = conn.createStatement()) {
            // Another process may have created the schema between our look and our write lock.
            try (ResultSet rs = s.executeQuery("SELECT count(*) FROM sqlite_master WHERE name = '" + META + "'")) {
                rs.next();
                if (rs.getInt(1) > 0) {
                    conn.commit();
                    conn.setAutoCommit(true);
                    initSchema(false);
                    return;
                }
            }
            s.execute("CREATE TABLE " + META + " (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
            s.execute("""
                    CREATE TABLE trials (
                      trial_key TEXT PRIMARY KEY,
                      sweep TEXT NOT NULL,
                      status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed', 'cancelled')),
                      model TEXT NOT NULL, model_file TEXT NOT NULL, data TEXT NOT NULL, calib_data TEXT,
                      calib_size INTEGER NOT NULL, eval_limit INTEGER NOT NULL,
                      method TEXT NOT NULL, recipe TEXT NOT NULL,
                      weight_bits INTEGER NOT NULL, activation_bits INTEGER NOT NULL, input_bits INTEGER,
                      seed INTEGER NOT NULL, overrides TEXT NOT NULL, recipe_yaml TEXT NOT NULL, out_dir TEXT,
                      fp_accuracy REAL, accuracy REAL, accuracy_drop REAL, eval_samples INTEGER,
                      bops INTEGER, fp_bops INTEGER, bop_saving REAL,
                      memory_bits INTEGER, fp_memory_bits INTEGER, memory_saving REAL,
                      seconds_json TEXT, total_seconds REAL,
                      report_json TEXT, provenance_json TEXT,
                      owner TEXT, owner_host TEXT, owner_pid INTEGER, heartbeat TEXT,
                      attempts INTEGER NOT NULL DEFAULT 0, started TEXT, finished TEXT, error TEXT)""");
            s.execute("CREATE INDEX trials_by_cell ON trials (model, weight_bits, activation_bits, method)");
            try (PreparedStatement ps = conn.prepareStatement("INSERT INTO " + META + " VALUES (?, ?)")) {
                for (String[] kv : new String[][] {
                    {"format", FORMAT},
                    {"schema_version", "" + SCHEMA_VERSION},
                    {"created", Instant.now().toString()},
                    {"created_by", "tinyptq " + Versions.tinyptq()}
                }) {
                    ps.setString(1, kv[0]);
                    ps.setString(2, kv[1]);
                    ps.executeUpdate();
                }
            }
            conn.commit();
        } catch (SQLException e) {
            conn.rollback();
            throw e;
        } finally {
            conn.setAutoCommit(true);
        }
    }

    /** The status of a trial, or {@code null} when the database has no row for it. */
    public synchronized String status(String key) {
        try (PreparedStatement ps = conn.prepareStatement("SELECT status FROM trials WHERE trial_key = ?")) {
            ps.setString(1, key);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        } catch (SQLException e) {
            throw fail("read trial " + key, e);
        }
    }

    /**
     * Decides in one write transaction whether this sweep runs the trial: a {@code done} row is skipped, a
     * {@code running} row of a live owner is left to it, anything else is (re)claimed and marked {@code running}.
     */
    public synchronized Claim claim(Trial t) {
        try {
            conn.setAutoCommit(false);
            try {
                Claim c = claimLocked(t);
                conn.commit();
                return c;
            } catch (SQLException | RuntimeException e) {
                conn.rollback();
                throw e;
            } finally {
                conn.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw fail("claim trial " + t.label(), e);
        }
    }

    private Claim claimLocked(Trial t) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement(
                "SELECT status, owner, owner_host, owner_pid, heartbeat FROM trials WHERE trial_key = ?")) {
            ps.setString(1, t.key());
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    String status = rs.getString(1);
                    if ("done".equals(status)) {
                        return Claim.DONE;
                    }
                    if ("running".equals(status)
                            && !owner.equals(rs.getString(2))
                            && live(rs.getString(2), rs.getString(3), rs.getLong(4), rs.getString(5))) {
                        return Claim.BUSY;
                    }
                }
            }
        }
        String now = Instant.now().toString();
        try (PreparedStatement ps = conn.prepareStatement("""
                INSERT INTO trials (trial_key, sweep, status, model, model_file, data, calib_data, calib_size,
                  eval_limit, method, recipe, weight_bits, activation_bits, seed, overrides, recipe_yaml, out_dir,
                  owner, owner_host, owner_pid, heartbeat, attempts, started)
                VALUES (?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)
                ON CONFLICT (trial_key) DO UPDATE SET status = 'running', sweep = excluded.sweep,
                  model = excluded.model, model_file = excluded.model_file, out_dir = excluded.out_dir,
                  owner = excluded.owner, owner_host = excluded.owner_host, owner_pid = excluded.owner_pid,
                  heartbeat = excluded.heartbeat, attempts = trials.attempts + 1, started = excluded.started,
                  finished = NULL, error = NULL""")) {
            int i = 1;
            ps.setString(i++, t.key());
            ps.setString(i++, t.sweep());
            ps.setString(i++, t.model());
            ps.setString(i++, t.modelFile());
            ps.setString(i++, t.data());
            ps.setString(i++, t.calibData());
            ps.setInt(i++, t.calibSize());
            ps.setInt(i++, t.evalLimit());
            ps.setString(i++, t.method());
            ps.setString(i++, t.recipe());
            ps.setInt(i++, t.weightBits());
            ps.setInt(i++, t.activationBits());
            ps.setLong(i++, t.seed());
            ps.setString(i++, Json.strings(t.overrides()));
            ps.setString(i++, t.recipeYaml());
            ps.setString(i++, t.outDir());
            ps.setString(i++, owner);
            ps.setString(i++, HOST);
            ps.setLong(i++, PID);
            ps.setString(i++, now);
            ps.setString(i, now);
            ps.executeUpdate();
        }
        return Claim.RUN;
    }

    /** Whether the owner of a {@code running} row is still at work. */
    static boolean live(String rowOwner, String host, long pid, String heartbeat) {
        if (HOST.equals(host)) {
            if (pid == PID) {
                return LIVE_OWNERS.contains(rowOwner);
            }
            return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
        }
        try {
            return heartbeat != null && Instant.parse(heartbeat).plus(LEASE).isAfter(Instant.now());
        } catch (DateTimeParseException e) {
            return false;
        }
    }

    /** Records a finished trial: metrics, time per stage, the report and provenance as JSON; status done. */
    public synchronized void finish(Trial t, RunReport r) {
        double total =
                r.seconds().values().stream().mapToDouble(Double::doubleValue).sum();
        try (PreparedStatement ps = conn.prepareStatement("""
                UPDATE trials SET status = 'done', input_bits = ?, fp_accuracy = ?, accuracy = ?, accuracy_drop = ?,
                  eval_samples = ?, bops = ?, fp_bops = ?, bop_saving = ?, memory_bits = ?, fp_memory_bits = ?,
                  memory_saving = ?, seconds_json = ?, total_seconds = ?, report_json = ?,
                  provenance_json = json_extract(?, '$.provenance'), finished = ?, error = NULL
                WHERE trial_key = ?""")) {
            String report = PtqRun.jsonLine(r);
            int i = 1;
            ps.setInt(i++, r.inputBits());
            ps.setDouble(i++, r.fpAccuracy());
            ps.setDouble(i++, r.accuracy());
            ps.setDouble(i++, r.fpAccuracy() - r.accuracy());
            ps.setLong(i++, r.evalSamples());
            ps.setLong(i++, r.bops());
            ps.setLong(i++, r.fpBops());
            ps.setDouble(i++, 100.0 * (1 - (double) r.bops() / r.fpBops()));
            ps.setLong(i++, r.memoryBits());
            ps.setLong(i++, r.fpMemoryBits());
            ps.setDouble(i++, 100.0 * (1 - (double) r.memoryBits() / r.fpMemoryBits()));
            ps.setString(i++, Json.numbers(r.seconds()));
            ps.setDouble(i++, total);
            ps.setString(i++, report);
            ps.setString(i++, report);
            ps.setString(i++, Instant.now().toString());
            ps.setString(i, t.key());
            if (ps.executeUpdate() != 1) {
                throw new ResultsDbException(file + ": trial " + t.label() + " has no row to finish (claim it first)");
            }
        } catch (SQLException e) {
            throw fail("record trial " + t.label(), e);
        }
    }

    /** Records a trial that failed or was cancelled, with the reason; it runs again next time. */
    public synchronized void fail(Trial t, boolean cancelled, String error) {
        try (PreparedStatement ps = conn.prepareStatement(
                "UPDATE trials SET status = ?, error = ?, finished = ? WHERE trial_key = ? AND status = 'running'")) {
            ps.setString(1, cancelled ? "cancelled" : "failed");
            ps.setString(2, error);
            ps.setString(3, Instant.now().toString());
            ps.setString(4, t.key());
            ps.executeUpdate();
        } catch (SQLException e) {
            throw fail("record the failure of trial " + t.label(), e);
        }
    }

    /** Every trial with status {@code done}, in the order they were first claimed (the sweep file's order). */
    public synchronized List<TrialRow> finished() {
        return rows("status = 'done'");
    }

    /** Trials by status: counts for the report's header. */
    public synchronized Map<String, Integer> statusCounts() {
        Map<String, Integer> m = new TreeMap<>();
        try (Statement s = conn.createStatement();
                ResultSet rs = s.executeQuery("SELECT status, count(*) FROM trials GROUP BY status")) {
            while (rs.next()) {
                m.put(rs.getString(1), rs.getInt(2));
            }
            return m;
        } catch (SQLException e) {
            throw fail("count trials", e);
        }
    }

    /** A REAL column, NaN where it is NULL (an accuracy never recorded), so that reports say n/a, not 0. */
    private static double orNaN(ResultSet rs, int column) throws SQLException {
        double v = rs.getDouble(column);
        return rs.wasNull() ? Double.NaN : v;
    }

    private List<TrialRow> rows(String where) {
        List<TrialRow> out = new ArrayList<>();
        try (Statement s = conn.createStatement();
                ResultSet rs = s.executeQuery("""
                     SELECT trial_key, sweep, status, model, data, method, recipe, weight_bits, activation_bits,
                       seed, calib_size, eval_limit, fp_accuracy, accuracy, eval_samples, bops, fp_bops, memory_bits,
                       fp_memory_bits, total_seconds, seconds_json, out_dir
                     FROM trials WHERE\s""" + where + """
                      ORDER BY rowid""")) {
            while (rs.next()) {
                int i = 1;
                out.add(new TrialRow(
                        rs.getString(i++),
                        rs.getString(i++),
                        rs.getString(i++),
                        rs.getString(i++),
                        rs.getString(i++),
                        rs.getString(i++),
                        rs.getString(i++),
                        rs.getInt(i++),
                        rs.getInt(i++),
                        rs.getLong(i++),
                        rs.getInt(i++),
                        rs.getInt(i++),
                        orNaN(rs, i++),
                        orNaN(rs, i++),
                        rs.getLong(i++),
                        rs.getLong(i++),
                        rs.getLong(i++),
                        rs.getLong(i++),
                        rs.getLong(i++),
                        rs.getDouble(i++),
                        rs.getString(i++),
                        rs.getString(i)));
            }
            return out;
        } catch (SQLException e) {
            throw fail("read trials", e);
        }
    }

    private synchronized void beat() {
        try (PreparedStatement ps =
                conn.prepareStatement("UPDATE trials SET heartbeat = ? WHERE owner = ? AND status = 'running'")) {
            ps.setString(1, Instant.now().toString());
            ps.setString(2, owner);
            ps.executeUpdate();
        } catch (SQLException e) {
            // A missed heartbeat only lets another host take the trial over after the lease; the next beat retries.
        }
    }

    private ResultsDbException fail(String what, SQLException e) {
        return new ResultsDbException(file + ": cannot " + what + ": " + e.getMessage(), e);
    }

    /** Closes the connection; rows of trials still in flight stay {@code running} and are taken over later. */
    @Override
    public synchronized void close() {
        heartbeat.shutdownNow();
        LIVE_OWNERS.remove(owner);
        closeQuietly(conn);
    }

    private static void closeQuietly(Connection c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (SQLException e) {
            // Closing after an error: the first error is the one reported.
        }
    }

    private static String host() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "localhost";
        }
    }
}
