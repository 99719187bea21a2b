package io.tinyptq.sweep;

import java.util.List;
import java.util.function.ToDoubleFunction;

/**
 * The time a sweep has left, for the line each finished trial prints: elapsed x (work left / work finished), the work
 * of a trial being its {@link TrialCost} estimate, or 1 per trial without one. Weighing by cost keeps the estimate
 * honest when the longest trials run first: counting trials, two long ones finished out of 24 would predict the
 * other 22 as long.
 */
final class SweepEta {
    private final long t0;
    private final ToDoubleFunction<Trial> work;
    private double finished;
    private double left;

    /** @param pending the trials this sweep will run or skip, each to be passed once to {@link #skip} or {@link #finish} */
    SweepEta(long t0, List<Trial> pending, TrialCost cost) {
        this.t0 = t0;
        this.work = cost == null ? t -> 1 : cost::estimate;
        for (Trial t : pending) {
            left += work.applyAsDouble(t);
        }
    }

    /** A pending trial that this sweep does not run (done meanwhile, or another sweep's). */
    synchronized void skip(Trial t) {
        left -= work.applyAsDouble(t);
    }

    /** {@code ; sweep 12m03s, eta 30m} once {@code t} has finished (or failed). */
    synchronized String finish(Trial t) {
        double w = work.applyAsDouble(t);
        finished += w;
        left -= w;
        return text((System.nanoTime() - t0) / 1e9, finished, left);
    }

    static String text(double elapsed, double finished, double left) {
        // Below a thousandth of the finished work, what is left is rounding, not work.
        if (!(left > 1e-3 * finished) || !(finished > 0)) {
            return "; sweep " + SweepRunner.time(elapsed);
        }
        return "; sweep " + SweepRunner.time(elapsed) + ", eta " + SweepRunner.time(elapsed / finished * left);
    }
}
