package io.tinyptq.sweep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyptq.api.spi.ProgressListener;
import io.tinyptq.kernel.pipeline.CancellationToken;
import io.tinyptq.sweep.fakes.FakeTrials;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SweepRunnerTest {

    @Test
    void aKilledSweepLosesOnlyTheTrialInFlightAndAReRunFinishesTheRest(@TempDir Path dir) {
        Path f = dir.resolve("results.db");
        List<Trial> trials = FakeTrials.trials(6);
        // The process "dies" after claiming the fourth trial: its row says running, its owner is gone.
        FakeTrials.Executor dying = new FakeTrials.Executor(t -> t.index() == 4, t -> false);
        try (ResultsDb db = ResultsDb.open(f)) {
            assertThrows(
                    FakeTrials.KilledException.class,
                    () -> new SweepRunner(db, dying, ProgressListener.NONE, new CancellationToken()).run(trials));
            assertEquals(3, dying.ran.size());
            assertEquals("running", db.status(trials.get(3).key()));
            assertEquals(null, db.status(trials.get(4).key()));
        }
        FakeTrials.Executor again = new FakeTrials.Executor();
        List<String> lines = new ArrayList<>();
        try (ResultsDb db = ResultsDb.open(f)) {
            SweepRunner.Summary s = new SweepRunner(db, again, messages(lines), new CancellationToken()).run(trials);
            assertEquals(6, s.total());
            assertEquals(3, s.skipped());
            assertEquals(3, s.ran());
            assertEquals(
                    List.of(
                            trials.get(3).key(),
                            trials.get(4).key(),
                            trials.get(5).key()),
                    again.ran);
            assertEquals(6, db.finished().size());
        }
        assertTrue(lines.get(0).contains("3 of 6 trials already done"), lines.toString());
        assertTrue(
                lines.stream().anyMatch(l -> l.startsWith("[4/6] m1 method0 W4A4 seed 3: FP 90.00 % -> 80.40 %")),
                lines.toString());
        // A third run has nothing left to do.
        FakeTrials.Executor third = new FakeTrials.Executor();
        try (ResultsDb db = ResultsDb.open(f)) {
            SweepRunner.Summary s =
                    new SweepRunner(db, third, ProgressListener.NONE, new CancellationToken()).run(trials);
            assertEquals(6, s.skipped());
            assertTrue(third.ran.isEmpty());
        }
    }

    @Test
    void failedAndCancelledTrialsAreRecordedAndRunAgain(@TempDir Path dir) {
        Path f = dir.resolve("results.db");
        List<Trial> trials = FakeTrials.trials(4);
        CancellationToken cancel = new CancellationToken();
        FakeTrials.Executor failing = new FakeTrials.Executor(t -> false, t -> t.index() == 2);
        try (ResultsDb db = ResultsDb.open(f)) {
            SweepRunner.Summary s = new SweepRunner(db, failing, ProgressListener.NONE, cancel).run(trials);
            assertEquals(1, s.failed());
            assertEquals(3, s.ran());
            assertEquals("failed", db.status(trials.get(1).key()));
            assertTrue(
                    s.failures().get(0).contains("trial failed on purpose"),
                    s.failures().toString());
        }
        FakeTrials.Executor again = new FakeTrials.Executor();
        try (ResultsDb db = ResultsDb.open(f)) {
            SweepRunner.Summary s = new SweepRunner(db, again, ProgressListener.NONE, cancel).run(trials);
            assertEquals(List.of(trials.get(1).key()), again.ran);
            assertEquals(0, s.failed());
            assertEquals("done", db.status(trials.get(1).key()));
        }
    }

    @Test
    void aCancelledSweepStartsNoFurtherTrial(@TempDir Path dir) {
        List<Trial> trials = FakeTrials.trials(5);
        CancellationToken cancel = new CancellationToken();
        FakeTrials.Executor ex = new FakeTrials.Executor();
        ProgressListener cancelAfterTwo = new ProgressListener() {
            @Override
            public void progress(String task, long done, long total) {}

            @Override
            public void message(String text) {
                if (text.startsWith("[2/5]")) {
                    cancel.cancel("test");
                }
            }
        };
        try (ResultsDb db = ResultsDb.open(dir.resolve("r.db"))) {
            SweepRunner.Summary s = new SweepRunner(db, ex, cancelAfterTwo, cancel).run(trials);
            assertEquals(2, s.ran());
            assertEquals(2, ex.ran.size());
            assertEquals(null, db.status(trials.get(2).key()));
        }
    }

    static ProgressListener messages(List<String> lines) {
        return new ProgressListener() {
            @Override
            public void progress(String task, long done, long total) {}

            @Override
            public void message(String text) {
                lines.add(text);
            }
        };
    }
}
