package io.tinyptq.cli;

import io.tinyptq.api.spi.ProgressListener;
import java.io.PrintWriter;
import java.util.Locale;

/**
 * Progress on the terminal's error stream: one line per task, redrawn in place ({@code \r}) at most ten times a
 * second, with a bar, counts, rate and ETA; messages print on lines of their own. Quiet mode prints messages only.
 */
final class ConsoleProgress implements ProgressListener {
    private static final int WIDTH = 30;
    private final PrintWriter err;
    private final boolean bars;
    private String task;
    private long started;
    private long lastDraw;
    private boolean lineOpen;

    ConsoleProgress(PrintWriter err, boolean bars) {
        this.err = err;
        this.bars = bars;
    }

    @Override
    public synchronized void progress(String name, long done, long total) {
        if (!bars) {
            return;
        }
        long now = System.nanoTime();
        if (!name.equals(task)) {
            endLine();
            task = name;
            started = now;
            lastDraw = 0;
        }
        boolean finished = total > 0 && done >= total;
        if (!finished && now - lastDraw < 100_000_000L) {
            return;
        }
        lastDraw = now;
        double seconds = (now - started) / 1e9;
        StringBuilder line = new StringBuilder("\r").append(name).append(' ');
        if (total > 0) {
            int filled = (int) (WIDTH * Math.min(1.0, (double) done / total));
            line.append('[')
                    .append("=".repeat(filled))
                    .append(" ".repeat(WIDTH - filled))
                    .append("] ");
            line.append(String.format(Locale.ROOT, "%d/%d", done, total));
            if (done > 0 && !finished) {
                double eta = seconds * (total - done) / done;
                line.append(String.format(Locale.ROOT, "  eta %s", time(eta)));
            }
        } else {
            line.append(done);
        }
        line.append(String.format(Locale.ROOT, "  %s", time(seconds)));
        err.print(line);
        err.flush();
        lineOpen = true;
        if (finished) {
            endLine();
            task = null;
        }
    }

    @Override
    public synchronized void message(String text) {
        endLine();
        err.println(text);
        err.flush();
    }

    private void endLine() {
        if (lineOpen) {
            err.println();
            lineOpen = false;
        }
    }

    static String time(double s) {
        return s < 60
                ? String.format(Locale.ROOT, "%.1fs", s)
                : String.format(Locale.ROOT, "%dm%02ds", (long) s / 60, (long) s % 60);
    }
}
