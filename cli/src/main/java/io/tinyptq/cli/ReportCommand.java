package io.tinyptq.cli;

import io.tinyptq.sweep.ResultsDb;
import io.tinyptq.sweep.report.SweepReport;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code tinyptq report}: Markdown, CSV and HTML with charts from a sweep's results database. */
@Command(
        name = "report",
        mixinStandardHelpOptions = true,
        description = "Write a sweep's report from its results database: report.md, report.html (self-contained),"
                + " table2.csv, trials.csv and charts/ (PNG and SVG): Table 2 (mean ± std over seeds), the"
                + " Figure 8 trade-off and accuracy-vs-bit-width charts per model.")
final class ReportCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "DB", description = "the results database a sweep wrote")
    Path db;

    @Option(names = "--out", description = "output folder (default: report/ beside the database)")
    Path out;

    @Override
    public Integer call() {
        PrintWriter o = spec.commandLine().getOut();
        Path dir = Defaults.outFolder(
                "--out", out != null ? out : db.toAbsolutePath().getParent().resolve("report"));
        List<String> files;
        try (ResultsDb results = ResultsDb.openExisting(db)) {
            files = new SweepReport(results.finished(), results.statusCounts(), db.toString()).write(dir);
        }
        o.println("report of " + db + " in " + dir + ":");
        files.forEach(f -> o.println("  " + f));
        o.flush();
        return 0;
    }
}
