package io.tinyptq.kernel.run;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyptq.api.TinyPtqException;
import io.tinyptq.api.model.Model;
import io.tinyptq.api.model.Op;
import io.tinyptq.api.quant.QuantParams;
import io.tinyptq.api.quant.QuantScheme;
import io.tinyptq.api.quant.QuantizedModel;
import io.tinyptq.api.quant.Quantizer;
import io.tinyptq.api.spi.BackendInfo;
import io.tinyptq.kernel.pipeline.Provenance;
import io.tinyptq.kernel.store.QuantizedModelStore;
import io.tinyptq.kernel.store.ResultsFolder;
import io.tinyptq.kernel.store.WriteInterruptions;
import io.tinyptq.testkit.TinyModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run's results written over an earlier run's, stopped at every boundary between files as a kill would stop it:
 * each time the folder holds the old complete results, the new complete results, or a mix that every reader refuses
 * as half-written. Never a loadable model mixing the two runs' quantizers and weights.
 */
class ResultsFolderInterruptionTest {

    /** A run of the test MLP: weights from {@code seed}, every quantizer's step {@code step}. */
    static QuantizedModel quantized(long seed, float step) {
        Model m = TinyModels.mlp(seed, 3, 4, 2);
        QuantizedModel qm = QuantizedModel.simulate(m, QuantScheme.of(4, 8));
        for (Quantizer q : qm.weightQuantizers().values()) {
            int c = m.constant(((Op.Layer) m.op(q.target())).weight())
                    .shape()
                    .dim(q.spec().channelAxis());
            float[] s = new float[c];
            java.util.Arrays.fill(s, step);
            q.setParams(new QuantParams(s, new float[c]));
        }
        for (Quantizer q : qm.activationQuantizers().values()) {
            q.setParams(new QuantParams(new float[] {step}, new float[] {3f}));
        }
        return qm;
    }

    static RunReport report(String recipe, double accuracy) {
        Provenance p = new Provenance(
                "test",
                "25",
                "linux",
                Instant.parse("2026-01-01T00:00:00Z"),
                0,
                recipe,
                "name: " + recipe + "\n",
                "mlp",
                "calib",
                List.of(),
                new BackendInfo("cpu", "test", 1, 8),
                Map.of("eval", 1.0));
        return new RunReport(
                recipe, "mlp", "data", "calib", 0, 4, 8, 8, 90.0, accuracy, 10, 1, 2, 3, 4, Map.of("eval", 1.0), p);
    }

    /** Every file of a results folder (relative path to bytes), leftover temporary files aside. */
    static Map<String, byte[]> contents(Path dir) throws Exception {
        Map<String, byte[]> out = new LinkedHashMap<>();
        for (String f : ResultsFolder.FILES) {
            Path p = dir.resolve(f);
            out.put(f, Files.exists(p) ? Files.readAllBytes(p) : null);
        }
        Path record = dir.resolve(ResultsFolder.RECORD);
        out.put(ResultsFolder.RECORD, Files.exists(record) ? Files.readAllBytes(record) : null);
        return out;
    }

    static boolean same(Map<String, byte[]> a, Map<String, byte[]> b) {
        return a.keySet().stream().allMatch(k -> java.util.Arrays.equals(a.get(k), b.get(k)));
    }

    @Test
    void aWriteStoppedAtAnyFileLeavesTheOldResultsTheNewOnesOrAFolderThatSaysSo(@TempDir Path tmp) throws Exception {
        QuantizedModel oldRun = quantized(1, 0.05f);
        QuantizedModel newRun = quantized(2, 0.125f);
        Path reference = tmp.resolve("new");
        PtqRun.write(reference, report("new", 75.0), newRun);
        Map<String, byte[]> newFiles = contents(reference);
        // A whole write puts the files in place one by one, the record last.
        List<Path> order = WriteInterruptions.stopAfter(
                Integer.MAX_VALUE, () -> PtqRun.write(tmp.resolve("count"), report("new", 75.0), newRun));
        assertEquals(ResultsFolder.FILES.size() + 1, order.size(), order.toString());
        assertEquals(
                ResultsFolder.RECORD, order.get(order.size() - 1).getFileName().toString());

        int oldSeen = 0;
        int newSeen = 0;
        int refused = 0;
        for (int stop = 0; stop <= order.size(); stop++) {
            Path dir = tmp.resolve("run-" + stop);
            PtqRun.write(dir, report("old", 81.0), oldRun);
            Map<String, byte[]> oldFiles = contents(dir);
            final int at = stop;
            List<Path> written = WriteInterruptions.stopAfter(stop == 0 ? -1 : stop, () -> {
                if (at > 0) {
                    PtqRun.write(dir, report("new", 75.0), newRun);
                }
            });
            assertEquals(stop, written.size(), "files in place when stopped");
            Map<String, byte[]> now = contents(dir);
            Path model = dir.resolve(ResultsFolder.MODEL);
            if (same(now, oldFiles) || same(now, newFiles)) {
                ResultsFolder.check(dir);
                QuantizedModel expected = same(now, oldFiles) ? oldRun : newRun;
                QuantizedModelStore.Stored s = QuantizedModelStore.load(model);
                assertArrayEquals(
                        expected.model().constant("fc1.w").data(),
                        s.model().constant("fc1.w").data());
                assertArrayEquals(
                        expected.weightQuantizers().get("fc1").params().scale(),
                        s.quantized().weightQuantizers().get("fc1").params().scale());
                if (same(now, oldFiles)) {
                    oldSeen++;
                } else {
                    newSeen++;
                }
            } else {
                // A mix of the two runs: the folder and its model say so, naming the folder.
                String m = assertThrows(TinyPtqException.class, () -> ResultsFolder.check(dir))
                        .getMessage();
                assertTrue(m.startsWith(dir + ": ") && m.contains("interrupted"), m);
                String load = assertThrows(TinyPtqException.class, () -> QuantizedModelStore.load(model))
                        .getMessage();
                assertTrue(load.contains("interrupted"), load);
                refused++;
            }
        }
        // Stopped before the first file: the old results; after the record: the new ones; in between: refused.
        assertEquals(1, oldSeen);
        assertEquals(1, newSeen);
        assertEquals(order.size() - 1, refused);
    }

    /** A folder holding results but no record (a first write into it killed) is refused too. */
    @Test
    void aFirstWriteStoppedBeforeItsRecordIsRefused(@TempDir Path tmp) {
        Path dir = tmp.resolve("first");
        WriteInterruptions.stopAfter(3, () -> PtqRun.write(dir, report("new", 75.0), quantized(2, 0.125f)));
        String m = assertThrows(TinyPtqException.class, () -> QuantizedModelStore.load(dir.resolve("model")))
                .getMessage();
        assertEquals(
                dir.toAbsolutePath().normalize() + ": results folder without report.json, which a run writes"
                        + " last: the results of a write that was interrupted (killed?) half way; run again to write them"
                        + " whole",
                m);
    }
}
