package io.tinyptq.sweep.report;

import io.tinyptq.api.TinyPtqException;
import io.tinyptq.sweep.TrialRow;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * A results database as a report: {@code report.md}, {@code report.html} (self-contained: charts inline as SVG),
 * {@code table2.csv} (one line per cell), {@code trials.csv} (one line per trial) and {@code charts/} (every
 * chart as PNG and SVG).
 *
 * <ul>
 *   <li><b>Table 2 layout</b> (Zhuo et al. 2022): a row per bit-width pair and method, a column per model, cells
 *       mean ± sample standard deviation of the top-1 accuracy over seeds; first row the FP accuracy.</li>
 *   <li><b>Figure 8</b>: per model and bit-width, the best method's mean accuracy drop against the BOP saving
 *       and the peak-memory saving relative to FP32.</li>
 *   <li><b>Figures 4-7 style</b>: per model, accuracy against bit-width with a line per method.</li>
 * </ul>
 */
public final class SweepReport {
    /** What a table shows for an accuracy the database does not hold (NULL). */
    static final String NOT_AVAILABLE = "n/a";

    private final List<TrialRow> rows;
    private final List<Cell> cells;
    private final List<String> models;
    private final List<String> methods;
    private final String source;
    private final Map<String, Integer> status;

    /**
     * @param rows   finished trials
     * @param status trial counts by status (header line)
     * @param source what the rows came from (the database file), for the header
     */
    public SweepReport(List<TrialRow> rows, Map<String, Integer> status, String source) {
        if (rows.isEmpty()) {
            throw new TinyPtqException(source + " holds no finished trial yet (trials by status: " + status
                    + "); run 'tinyptq sweep' first");
        }
        this.rows = List.copyOf(rows);
        this.cells = Cell.of(rows);
        this.models = rows.stream().map(TrialRow::model).distinct().toList();
        this.methods = Cell.methods(rows);
        this.source = source;
        this.status = Map.copyOf(status);
    }

    public List<Cell> cells() {
        return cells;
    }

    /** Writes every file into {@code dir}; returns their paths relative to it. */
    public List<String> write(Path dir) {
        System.setProperty("java.awt.headless", "true");
        List<String> files = new ArrayList<>();
        try {
            Files.createDirectories(dir);
            List<Charts.Written> charts = charts(dir);
            charts.forEach(c -> {
                files.add(c.png());
                files.add(c.svg());
            });
            Files.writeString(dir.resolve("report.md"), markdown(charts), StandardCharsets.UTF_8);
            Files.writeString(dir.resolve("report.html"), html(charts), StandardCharsets.UTF_8);
            Files.writeString(dir.resolve("table2.csv"), table2Csv(), StandardCharsets.UTF_8);
            Files.writeString(dir.resolve("trials.csv"), trialsCsv(), StandardCharsets.UTF_8);
            files.addAll(0, List.of("report.md", "report.html", "table2.csv", "trials.csv"));
            return files;
        } catch (IOException e) {
            throw new TinyPtqException("cannot write the report to " + dir + ": " + e.getMessage(), e);
        }
    }

    // ---- content ------------------------------------------------------------------------------------------

    /** Bit-width pairs in table order: highest weight bits first. */
    List<String> bitPairs() {
        return cells.stream()
                .sorted(Comparator.comparingInt(Cell::weightBits)
                        .reversed()
                        .thenComparing(
                                Comparator.comparingInt(Cell::activationBits).reversed()))
                .map(Cell::bits)
                .distinct()
                .toList();
    }

    private Cell cell(String model, String bits, String method) {
        return cells.stream()
                .filter(c -> c.model().equals(model)
                        && c.bits().equals(bits)
                        && c.method().equals(method))
                .findFirst()
                .orElse(null);
    }

    /** Mean FP accuracy of a model over its trials. */
    double fpAccuracy(String model) {
        return rows.stream()
                .filter(r -> r.model().equals(model))
                .mapToDouble(TrialRow::fpAccuracy)
                .average()
                .orElse(Double.NaN);
    }

    private int modalN() {
        return cells.stream().collect(Collectors.groupingBy(Cell::n, Collectors.counting())).entrySet().stream()
                .max(Map.Entry.comparingByValue())
                .map(Map.Entry::getKey)
                .orElse(1);
    }

    /** A Table 2 cell: {@code 85.34 ± 0.32}; a single seed gives the value alone; an odd count is named. */
    String format(Cell c) {
        if (c == null) {
            return "";
        }
        String s = Double.isNaN(c.accuracy())
                ? NOT_AVAILABLE
                : c.n() >= 2
                        ? String.format(Locale.ROOT, "%.2f ± %.2f", c.accuracy(), c.accuracyStd())
                        : String.format(Locale.ROOT, "%.2f", c.accuracy());
        return c.n() != modalN() ? s + " (n=" + c.n() + ")" : s;
    }

    /** Table 2: header then rows, each a list of cells (bits, method, one per model). */
    List<List<String>> table2() {
        List<List<String>> t = new ArrayList<>();
        List<String> head = new ArrayList<>(List.of("W/A", "method"));
        models.forEach(m -> head.add(m + " (" + dataOf(m) + ")"));
        t.add(head);
        List<String> fp = new ArrayList<>(List.of("32/32", "full precision"));
        models.forEach(m -> fp.add(percent(fpAccuracy(m))));
        t.add(fp);
        for (String b : bitPairs()) {
            for (String method : methods) {
                if (models.stream().noneMatch(m -> cell(m, b, method) != null)) {
                    continue;
                }
                List<String> row = new ArrayList<>(List.of(b, method));
                models.forEach(m -> row.add(format(cell(m, b, method))));
                t.add(row);
            }
        }
        return t;
    }

    private String dataOf(String model) {
        return rows.stream()
                .filter(r -> r.model().equals(model))
                .map(TrialRow::data)
                .findFirst()
                .orElse("");
    }

    /** Figure 8 points: per model, per bit-width, the cell of the best method (highest mean accuracy). */
    Map<String, List<Cell>> best() {
        Map<String, List<Cell>> out = new LinkedHashMap<>();
        for (String m : models) {
            List<Cell> pts = new ArrayList<>();
            for (String b : bitPairs()) {
                cells.stream()
                        .filter(c -> c.model().equals(m) && c.bits().equals(b) && !Double.isNaN(c.accuracy()))
                        .max(Comparator.comparingDouble(Cell::accuracy))
                        .ifPresent(pts::add);
            }
            out.put(m, pts);
        }
        return out;
    }

    private List<Charts.Written> charts(Path dir) throws IOException {
        List<Charts.Written> out = new ArrayList<>();
        Map<String, List<Cell>> best = best();
        for (boolean bops : new boolean[] {true, false}) {
            Map<String, List<double[]>> pts = new LinkedHashMap<>();
            Map<String, List<String>> labels = new LinkedHashMap<>();
            best.forEach((m, all) -> {
                List<Cell> cs =
                        all.stream().filter(c -> !Double.isNaN(c.drop())).toList();
                pts.put(
                        m,
                        cs.stream()
                                .map(c -> new double[] {bops ? c.bopSaving() : c.memorySaving(), c.drop()})
                                .toList());
                labels.put(
                        m,
                        cs.stream()
                                .map(c -> "W" + c.weightBits() + "A" + c.activationBits())
                                .toList());
            });
            String what = bops ? "BOP" : "memory";
            out.add(Charts.write(
                    Charts.tradeoff(what, pts, labels),
                    dir,
                    bops ? "figure8-bops" : "figure8-memory",
                    "Figure 8: accuracy drop vs " + what + " saving"));
        }
        for (String m : models) {
            List<Cell> cs = cells.stream().filter(c -> c.model().equals(m)).toList();
            out.add(Charts.write(
                    Charts.ablation(m, cs), dir, "accuracy-" + safe(m), m + ": accuracy vs bit-width per method"));
        }
        return out;
    }

    private static String safe(String s) {
        return s.replaceAll("[^A-Za-z0-9._-]+", "_");
    }

    private List<List<String>> figure8Table() {
        List<List<String>> t = new ArrayList<>();
        t.add(List.of("model", "W/A", "best method", "accuracy", "drop (points)", "BOP saving", "memory saving"));
        best().forEach((m, cs) -> cs.forEach(c -> t.add(List.of(
                m,
                c.bits(),
                c.method(),
                format(c),
                percent(c.drop()),
                String.format(Locale.ROOT, "%.1f %%", c.bopSaving()),
                String.format(Locale.ROOT, "%.1f %%", c.memorySaving())))));
        return t;
    }

    private List<List<String>> timeTable() {
        List<List<String>> t = new ArrayList<>();
        t.add(List.of("model", "method", "trials", "mean time per trial", "total"));
        for (String m : models) {
            for (String method : methods) {
                List<TrialRow> rs = rows.stream()
                        .filter(r -> r.model().equals(m) && r.method().equals(method))
                        .toList();
                if (rs.isEmpty()) {
                    continue;
                }
                double total = rs.stream().mapToDouble(TrialRow::totalSeconds).sum();
                t.add(List.of(
                        m,
                        method,
                        "" + rs.size(),
                        String.format(Locale.ROOT, "%.1f s", total / rs.size()),
                        String.format(Locale.ROOT, "%.0f s", total)));
            }
        }
        return t;
    }

    private String header() {
        double total = rows.stream().mapToDouble(TrialRow::totalSeconds).sum();
        String sweeps = rows.stream().map(TrialRow::sweep).distinct().collect(Collectors.joining(", "));
        StringBuilder b = new StringBuilder();
        b.append(String.format(
                        Locale.ROOT,
                        "Sweep %s: %d finished trials from %s (trials by status: %s); %.0f s of"
                                + " trial time in all.",
                        sweeps,
                        rows.size(),
                        source,
                        status,
                        total))
                .append("\n\n");
        b.append("Accuracy is top-1 in percent on each model's evaluation samples; a cell is the mean ± sample"
                        + " standard deviation (n - 1) over its seeds")
                .append(String.format(Locale.ROOT, " (n = %d unless" + " noted).", modalN()))
                .append('\n');
        for (String m : models) {
            TrialRow r =
                    rows.stream().filter(x -> x.model().equals(m)).findFirst().orElseThrow();
            long samples = rows.stream()
                    .filter(x -> x.model().equals(m))
                    .mapToLong(TrialRow::evalSamples)
                    .max()
                    .orElse(0);
            b.append(String.format(
                    Locale.ROOT,
                    "- %s: evaluated on %s, %d samples; %d calibration samples; FP" + " accuracy %s %%%n",
                    m,
                    r.data(),
                    samples,
                    r.calibSize(),
                    percent(fpAccuracy(m))));
        }
        return b.toString();
    }

    String markdown(List<Charts.Written> charts) {
        StringBuilder b =
                new StringBuilder("# Sweep report\n\n").append(header()).append('\n');
        b.append("## Table 2: accuracy per bit-width and method (mean ± std over seeds)\n\n")
                .append(mdTable(table2(), 2))
                .append('\n');
        b.append("## Figure 8: accuracy drop against BOP and memory saving\n\n")
                .append("The best method (highest mean accuracy) at each bit-width. BOPs = MACs × b_w × b_a; peak"
                        + " memory = params × b_w + peak activation × b_a; savings relative to FP32 (the paper's text"
                        + " quotes them against W8A8, where W4A4 saves 75 % of BOPs and about 50 % of memory).\n\n")
                .append(mdTable(figure8Table(), 3))
                .append('\n');
        Function<Charts.Written, String> img =
                c -> "![" + c.title() + "](" + c.png() + ")  \n[SVG](" + c.svg() + ")\n\n";
        charts.stream().filter(c -> c.name().startsWith("figure8")).map(img).forEach(b::append);
        b.append("## Accuracy against bit-width per method (Figures 4-7 style)\n\n")
                .append("Error bars: ± one standard deviation over seeds; dashed: FP accuracy.\n\n");
        charts.stream().filter(c -> !c.name().startsWith("figure8")).map(img).forEach(b::append);
        b.append("## Time per trial\n\n").append(mdTable(timeTable(), 2));
        return b.toString();
    }

    private static String mdTable(List<List<String>> t, int leftColumns) {
        StringBuilder b = new StringBuilder();
        b.append("| ").append(String.join(" | ", t.get(0))).append(" |\n|");
        for (int i = 0; i < t.get(0).size(); i++) {
            b.append(i < leftColumns ? "---|" : "---:|");
        }
        b.append('\n');
        t.subList(1, t.size())
                .forEach(r -> b.append("| ").append(String.join(" | ", r)).append(" |\n"));
        return b.toString();
    }

    String html(List<Charts.Written> charts) {
        StringBuilder b = new StringBuilder("""
                <!DOCTYPE html>
                <html lang="en"><head><meta charset="utf-8"><title>tinyptq sweep report</title>
                <style>
                body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
                table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 10px}
                th{background:#f3f3f3}td.n{text-align:right;font-variant-numeric:tabular-nums}
                figure{margin:1em 0}figcaption{color:#555;font-size:90%}
                </style></head><body>
                <h1>Sweep report</h1>
                """);
        for (String line : header().split("\n")) {
            if (!line.isBlank()) {
                b.append("<p>")
                        .append(esc(line.startsWith("- ") ? line.substring(2) : line))
                        .append("</p>\n");
            }
        }
        b.append("<h2>Table 2: accuracy per bit-width and method (mean ± std over seeds)</h2>\n")
                .append(htmlTable(table2(), 2));
        b.append("<h2>Figure 8: accuracy drop against BOP and memory saving</h2>\n")
                .append(htmlTable(figure8Table(), 3));
        charts.stream().filter(c -> c.name().startsWith("figure8")).forEach(c -> b.append(figure(c)));
        b.append("<h2>Accuracy against bit-width per method (Figures 4-7 style)</h2>\n");
        charts.stream().filter(c -> !c.name().startsWith("figure8")).forEach(c -> b.append(figure(c)));
        b.append("<h2>Time per trial</h2>\n").append(htmlTable(timeTable(), 2));
        return b.append("</body></html>\n").toString();
    }

    private static String figure(Charts.Written c) {
        return "<figure>" + c.svgElement() + "<figcaption>" + esc(c.title()) + "</figcaption></figure>\n";
    }

    private static String htmlTable(List<List<String>> t, int leftColumns) {
        StringBuilder b = new StringBuilder("<table><tr>");
        t.get(0).forEach(h -> b.append("<th>").append(esc(h)).append("</th>"));
        b.append("</tr>\n");
        for (List<String> r : t.subList(1, t.size())) {
            b.append("<tr>");
            for (int i = 0; i < r.size(); i++) {
                b.append(i < leftColumns ? "<td>" : "<td class=\"n\">")
                        .append(esc(r.get(i)))
                        .append("</td>");
            }
            b.append("</tr>\n");
        }
        return b.append("</table>\n").toString();
    }

    private static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    String table2Csv() {
        StringBuilder b = new StringBuilder("model,weight_bits,activation_bits,method,n,accuracy_mean,accuracy_std,"
                + "fp_accuracy_mean,accuracy_drop_mean,bop_saving_percent,memory_saving_percent,seconds_mean\n");
        for (Cell c : cells) {
            b.append(csv(c.model()))
                    .append(',')
                    .append(c.weightBits())
                    .append(',')
                    .append(c.activationBits())
                    .append(',')
                    .append(csv(c.method()))
                    .append(',')
                    .append(c.n())
                    .append(',')
                    .append(num(c.accuracy()))
                    .append(',')
                    .append(num(c.accuracyStd()))
                    .append(',')
                    .append(num(c.fpAccuracy()))
                    .append(',')
                    .append(num(c.drop()))
                    .append(String.format(
                            Locale.ROOT, ",%.3f,%.3f,%.2f%n", c.bopSaving(), c.memorySaving(), c.seconds()));
        }
        return b.toString();
    }

    String trialsCsv() {
        StringBuilder b = new StringBuilder("trial_key,sweep,model,data,method,recipe,weight_bits,activation_bits,seed,"
                + "calib_size,eval_limit,eval_samples,fp_accuracy,accuracy,accuracy_drop,bops,fp_bops,bop_saving,"
                + "memory_bits,fp_memory_bits,memory_saving,total_seconds,seconds_json,out_dir\n");
        for (TrialRow r : rows) {
            b.append(String.join(
                            ",",
                            csv(r.key()),
                            csv(r.sweep()),
                            csv(r.model()),
                            csv(r.data()),
                            csv(r.method()),
                            csv(r.recipe()),
                            "" + r.weightBits(),
                            "" + r.activationBits(),
                            "" + r.seed(),
                            "" + r.calibSize(),
                            "" + r.evalLimit(),
                            "" + r.evalSamples(),
                            num(r.fpAccuracy()),
                            num(r.accuracy()),
                            num(r.accuracyDrop()),
                            "" + r.bops(),
                            "" + r.fpBops(),
                            num(r.bopSaving()),
                            "" + r.memoryBits(),
                            "" + r.fpMemoryBits(),
                            num(r.memorySaving()),
                            num(r.totalSeconds()),
                            csv(r.secondsJson()),
                            csv(r.outDir())))
                    .append('\n');
        }
        return b.toString();
    }

    /** A CSV number; empty where the database holds none (NULL, read as NaN). */
    private static String num(double d) {
        return Double.isNaN(d) ? "" : String.format(Locale.ROOT, "%.4f", d);
    }

    /** A percentage in a table; {@value #NOT_AVAILABLE} where the database holds none (NULL, read as NaN). */
    static String percent(double d) {
        return Double.isNaN(d) ? NOT_AVAILABLE : String.format(Locale.ROOT, "%.2f", d);
    }

    private static String csv(String s) {
        if (s == null) {
            return "";
        }
        return s.contains(",") || s.contains("\"") || s.contains("\n") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
    }
}
