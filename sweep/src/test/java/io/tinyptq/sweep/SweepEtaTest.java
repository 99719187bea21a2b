package io.tinyptq.sweep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyptq.sweep.fakes.FakeTrials;
import java.util.List;
import org.junit.jupiter.api.Test;

class SweepEtaTest {

    @Test
    void theTimeLeftIsTheElapsedTimeScaledByTheWorkLeftOverTheWorkFinished() {
        // 8 s for work 4, work 2 left: 4 s.
        assertEquals("; sweep 8.0 s, eta 4.0 s", SweepEta.text(8, 4, 2));
        assertEquals("; sweep 2m00s, eta 10m00s", SweepEta.text(120, 1, 5));
        assertEquals("; sweep 8.0 s", SweepEta.text(8, 4, 0));
        assertEquals("; sweep 8.0 s", SweepEta.text(8, 4, 1e-9));
    }

    @Test
    void longTrialsFirstDoNotMakeTheShortOnesLookLong() {
        // Trial 1 costs 10 per sample on model file m1, trials 0 and 2 cost 1 on m0: once the long trial is done, what
        // is left is 2 of 12, a fifth of the elapsed time, where counting trials would say twice the elapsed time.
        List<Trial> trials = FakeTrials.trials(3).stream()
                .map(t -> TrialCostTest.withModelFile(t, t.index() == 2 ? "m1" : "m0"))
                .toList();
        // The sweep started 10 s ago.
        SweepEta eta =
                new SweepEta(System.nanoTime() - 10_000_000_000L, trials, new TrialCost(f -> f.equals("m1") ? 10 : 1));
        String line = eta.finish(trials.get(1));
        double elapsed = seconds(line, "; sweep ", " s,");
        double left = seconds(line, ", eta ", " s");
        assertTrue(elapsed >= 10, line);
        assertEquals(elapsed / 5, left, 0.1, line);
        eta.skip(trials.get(0));
        assertTrue(eta.finish(trials.get(2)).matches("; sweep [0-9.]+ s"));
    }

    private static double seconds(String line, String before, String after) {
        int i = line.indexOf(before) + before.length();
        return Double.parseDouble(line.substring(i, line.indexOf(after, i)));
    }
}
