package io.tinyptq.sweep.report;

import io.tinyptq.sweep.TrialRow;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One cell of Table 2: the trials of one model at one bit-width pair with one method, over seeds.
 *
 * <p>Statistics over the cell's seeds: the mean, and the sample standard deviation (denominator {@code n - 1};
 * 0 for a single seed).
 *
 * @param n            trials (seeds) in the cell
 * @param accuracy     mean quantized accuracy, percent
 * @param accuracyStd  sample standard deviation of the quantized accuracy
 * @param fpAccuracy   mean FP accuracy on the same samples
 * @param drop         mean accuracy drop (FP minus quantized), points
 * @param bopSaving    BOPs saved against FP32, percent (the same for every seed)
 * @param memorySaving peak memory saved against FP32, percent
 * @param seconds      mean wall time of a trial
 */
public record Cell(
        String model,
        int weightBits,
        int activationBits,
        String method,
        int n,
        double accuracy,
        double accuracyStd,
        double fpAccuracy,
        double drop,
        double bopSaving,
        double memorySaving,
        double seconds) {

    /** {@code 4/4}. */
    public String bits() {
        return weightBits + "/" + activationBits;
    }

    /** Cells of the rows, in model, bit-width (high first), then first-appearance method order. */
    public static List<Cell> of(List<TrialRow> rows) {
        Map<String, List<TrialRow>> groups = new LinkedHashMap<>();
        List<String> methods = methods(rows);
        List<TrialRow> sorted = new ArrayList<>(rows);
        sorted.sort(Comparator.comparing(TrialRow::model)
                .thenComparing(Comparator.comparingInt(TrialRow::weightBits).reversed())
                .thenComparing(Comparator.comparingInt(TrialRow::activationBits).reversed())
                .thenComparingInt(r -> methods.indexOf(r.method())));
        for (TrialRow r : sorted) {
            groups.computeIfAbsent(
                            r.model() + "\u0000" + r.weightBits() + "/" + r.activationBits() + "\u0000" + r.method(),
                            k -> new ArrayList<>())
                    .add(r);
        }
        List<Cell> cells = new ArrayList<>();
        for (List<TrialRow> g : groups.values()) {
            TrialRow f = g.get(0);
            double[] acc = g.stream().mapToDouble(TrialRow::accuracy).toArray();
            cells.add(new Cell(
                    f.model(),
                    f.weightBits(),
                    f.activationBits(),
                    f.method(),
                    g.size(),
                    mean(acc),
                    Double.isNaN(mean(acc)) ? Double.NaN : std(acc),
                    mean(g.stream().mapToDouble(TrialRow::fpAccuracy).toArray()),
                    mean(g.stream().mapToDouble(TrialRow::accuracyDrop).toArray()),
                    mean(g.stream().mapToDouble(TrialRow::bopSaving).toArray()),
                    mean(g.stream().mapToDouble(TrialRow::memorySaving).toArray()),
                    mean(g.stream().mapToDouble(TrialRow::totalSeconds).toArray())));
        }
        return cells;
    }

    /** Methods in the order they first appear (the sweep file's order, since trials are recorded in it). */
    static List<String> methods(List<TrialRow> rows) {
        List<String> m = new ArrayList<>();
        rows.stream().map(TrialRow::method).filter(x -> !m.contains(x)).forEach(m::add);
        return m;
    }

    static double mean(double[] x) {
        double s = 0;
        for (double v : x) {
            s += v;
        }
        return s / x.length;
    }

    /** Sample standard deviation (n - 1); 0 for fewer than two values. */
    static double std(double[] x) {
        if (x.length < 2) {
            return 0;
        }
        double m = mean(x);
        double s = 0;
        for (double v : x) {
            s += (v - m) * (v - m);
        }
        return Math.sqrt(s / (x.length - 1));
    }
}
