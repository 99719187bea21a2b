/**
 * Sweeps and reports: a sweep file expands to trials (models x recipes x bit-widths x seeds, each one
 * {@link io.tinyptq.kernel.run.PtqRun}), which a {@link io.tinyptq.sweep.TrialExecutor} runs and a per-sweep
 * SQLite database records; {@link io.tinyptq.sweep.report.SweepReport} turns a database into Markdown, CSV and
 * HTML with JFreeChart charts (PNG and SVG).
 */
module io.tinyptq.sweep {
    requires transitive io.tinyptq.kernel;
    requires transitive java.sql;
    requires java.desktop;
    requires org.xerial.sqlitejdbc;
    requires org.jfree.jfreechart;
    requires org.jfree.svg;

    exports io.tinyptq.sweep;
    // Executors are found by name: local here, others (sweep-spark) in jars of their own.
    uses io.tinyptq.sweep.TrialExecutorProvider;

    provides io.tinyptq.sweep.TrialExecutorProvider with
            io.tinyptq.sweep.LocalTrialExecutorProvider;
    // Also what the kernel's OptionBinder needs to bind the sweep file's records.
    exports io.tinyptq.sweep.report;
}
