package io.tinyptq.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyptq.api.model.Model;
import io.tinyptq.api.model.Tensor;
import io.tinyptq.api.quant.QuantizedModel;
import io.tinyptq.api.quant.Quantizer;
import io.tinyptq.api.spi.CalibrationSet;
import io.tinyptq.kernel.Kernel;
import io.tinyptq.kernel.pipeline.CancellationToken;
import io.tinyptq.kernel.pipeline.RunOptions;
import io.tinyptq.kernel.recipe.Recipe;
import io.tinyptq.plugins.optimize.Granularity;
import io.tinyptq.plugins.optimize.ReconstructionLoss;
import io.tinyptq.plugins.optimize.UnitActivations;
import io.tinyptq.plugins.optimize.WeightOptimizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reconstruction's checkpoints end to end, beside {@link ReconstructionIntegrationTest}'s interrupted run: a rerun
 * of the same stage inputs resumes every unit from {@code WORK/checkpoints/PLUGIN/DIGEST/}, while a rerun in the
 * same work folder after the calibration data, the model's constants or the quantizer parameters changed starts
 * afresh in a new digest folder and ends where a run without any checkpoints ends.
 */
class CheckpointResumeTest {
    static final Kernel KERNEL = ReconstructionIntegrationTest.KERNEL;
    static final Model MODEL = ReconstructionIntegrationTest.MODEL;
    static final CalibrationSet CALIB = ReconstructionIntegrationTest.CALIB;
    // AdaQuant: its float weights move with every step's samples, so a result resumed from other inputs' units
    // differs in its bits (40 AdaRound steps mostly keep the nearest rounding whatever the data). Few steps: these
    // tests follow which checkpoints are used, not how well the units fit.
    static final String PLUGIN = "weights";
    static final WeightOptimizer.Options OPTIONS = new WeightOptimizer.Options(
            Granularity.LAYER, 40, 1e-3, 32, 64, UnitActivations.QUANTIZED, ReconstructionLoss.MSE, 0);
    static final int UNITS = MODEL.layers().size();

    static Recipe recipe(String weightInit) {
        return ReconstructionIntegrationTest.base(4)
                .initWeights(weightInit, null)
                .optimize(PLUGIN, OPTIONS)
                .build(KERNEL.registry());
    }

    /** A run's result and what it said: units trained ("loss a -> b") and units restored. */
    record Outcome(QuantizedModel qm, List<String> messages) {
        long trained() {
            return messages.stream()
                    .filter(m -> m.startsWith(PLUGIN + " ") && m.contains(": loss "))
                    .count();
        }

        long restored() {
            return messages.stream()
                    .filter(m -> m.endsWith(": restored from checkpoint"))
                    .count();
        }
    }

    /** Runs the pipeline; {@code work} null runs without checkpoints. */
    static Outcome run(Recipe r, Model m, CalibrationSet calib, Path work) {
        List<String> messages = new ArrayList<>();
        QuantizedModel qm = KERNEL.runner()
                .run(
                        r,
                        m,
                        calib,
                        new RunOptions(
                                ReconstructionIntegrationTest.messagesTo(messages), new CancellationToken(), work))
                .quantized();
        return new Outcome(qm, messages);
    }

    /** The plugin's digest folders, sorted. */
    static List<Path> digests(Path work) throws IOException {
        Path plugin = work.resolve("checkpoints").resolve(PLUGIN);
        try (var s = Files.list(plugin)) {
            return s.filter(Files::isDirectory).sorted().toList();
        }
    }

    static long unitFiles(Path digest) throws IOException {
        try (var s = Files.list(digest)) {
            return s.filter(f -> f.getFileName().toString().matches("unit-\\d{3}\\.ckpt"))
                    .count();
        }
    }

    /** Bit-identical weights, biases and quantizer parameters. */
    static void assertSameResult(QuantizedModel expected, QuantizedModel actual) {
        for (Map.Entry<String, Tensor> c : expected.model().constants().entrySet()) {
            assertArrayEquals(
                    c.getValue().data(), actual.model().constant(c.getKey()).data(), c.getKey());
        }
        for (var qs : List.of(
                Map.entry(expected.weightQuantizers(), actual.weightQuantizers()),
                Map.entry(expected.activationQuantizers(), actual.activationQuantizers()))) {
            assertEquals(qs.getKey().keySet(), qs.getValue().keySet());
            for (Quantizer q : qs.getKey().values()) {
                assertEquals(q.params(), qs.getValue().get(q.target()).params(), q.target());
            }
        }
    }

    static boolean sameWeights(QuantizedModel a, QuantizedModel b) {
        return a.model().constants().equals(b.model().constants());
    }

    @Test
    void anIdenticalRerunResumesEveryUnitToTheSameResult(@TempDir Path dir) throws IOException {
        Path work = dir.resolve("work");
        Outcome first = run(recipe("minmax"), MODEL, CALIB, work);
        assertEquals(UNITS, first.trained(), first.messages().toString());
        assertEquals(0, first.restored());
        List<Path> folders = digests(work);
        assertEquals(1, folders.size(), folders.toString());
        assertEquals(UNITS, unitFiles(folders.get(0)));

        Outcome again = run(recipe("minmax"), MODEL, CALIB, work);
        assertEquals(UNITS, again.restored(), again.messages().toString());
        assertEquals(0, again.trained(), "no unit is trained again: " + again.messages());
        assertEquals(folders, digests(work));
        assertSameResult(first.qm(), again.qm());
        // Checkpointing does not change the result either.
        assertSameResult(run(recipe("minmax"), MODEL, CALIB, null).qm(), again.qm());
    }

    /**
     * A checkpoint changed after it was written (one weight's sign bit flipped, as an edit or a bad disk would) is
     * not resumed from: the rerun says which file, fits that unit again, restores the others, and ends where the
     * first run ended.
     */
    @Test
    void aDamagedCheckpointIsFittedAgain(@TempDir Path dir) throws IOException {
        Path work = dir.resolve("work");
        Outcome first = run(recipe("minmax"), MODEL, CALIB, work);
        Path damaged = digests(work).get(0).resolve("unit-002.ckpt");
        byte[] bytes = Files.readAllBytes(damaged);
        bytes[bytes.length / 2] ^= (byte) 0x80;
        Files.write(damaged, bytes);

        Outcome again = run(recipe("minmax"), MODEL, CALIB, work);
        assertEquals(1, again.trained(), again.messages().toString());
        assertEquals(UNITS - 1, again.restored(), again.messages().toString());
        assertTrue(
                again.messages().stream()
                        .anyMatch(m -> m.contains("checkpoint " + damaged + " does not match its SHA-256 checksum")
                                && m.endsWith("; fitting the unit again")),
                again.messages().toString());
        assertSameResult(first.qm(), again.qm());
        // The unit's checkpoint was written again: a third run restores every unit.
        assertEquals(UNITS, run(recipe("minmax"), MODEL, CALIB, work).restored());
    }

    /**
     * A rerun with one input of the stage changed: nothing restored, every unit trained, a second digest folder
     * beside the first, and the result of a run from scratch on the new inputs, which differs from the first run's
     * (else resuming would go unnoticed).
     */
    static void assertStartsAfresh(Path dir, Recipe changedRecipe, Model changedModel, CalibrationSet changedCalib)
            throws IOException {
        Path work = dir.resolve("work");
        Outcome first = run(recipe("minmax"), MODEL, CALIB, work);
        List<Path> before = digests(work);

        Outcome changed = run(changedRecipe, changedModel, changedCalib, work);
        assertEquals(0, changed.restored(), changed.messages().toString());
        assertEquals(UNITS, changed.trained(), changed.messages().toString());
        assertTrue(
                changed.messages().stream()
                        .anyMatch(m -> m.contains("were made with other options, seed or" + " data")),
                changed.messages().toString());
        List<Path> after = digests(work);
        assertEquals(2, after.size(), after.toString());
        assertTrue(after.containsAll(before), "the old checkpoints stay: " + after);
        Path fresh = after.stream().filter(p -> !before.contains(p)).findFirst().orElseThrow();
        assertEquals(UNITS, unitFiles(fresh));

        Outcome scratch = run(changedRecipe, changedModel, changedCalib, null);
        assertSameResult(scratch.qm(), changed.qm());
        assertFalse(sameWeights(first.qm(), changed.qm()), "the changed input changes the result");
    }

    @Test
    void changedCalibrationDataStartsAfresh(@TempDir Path dir) throws IOException {
        // The same samples in reverse order: min-max initialization gives the same quantizers, so only the samples
        // tell the runs apart, while reconstruction's mini-batches, drawn by index, hold other samples.
        int size = MODEL.shape("x").size();
        float[] reversed = new float[CALIB.data().length];
        for (int i = 0; i < ReconstructionIntegrationTest.N; i++) {
            System.arraycopy(CALIB.data(), i * size, reversed, (ReconstructionIntegrationTest.N - 1 - i) * size, size);
        }
        CalibrationSet other = new CalibrationSet("reversed", MODEL.shape("x"), reversed, new int[0]);
        assertStartsAfresh(dir, recipe("minmax"), MODEL, other);
    }

    @Test
    void changedModelConstantsStartAfresh(@TempDir Path dir) throws IOException {
        // The last layer's largest weight of channel 0 negated: that channel's largest magnitude, and so its weight
        // quantizer, stays, and no activation quantizer reads the logits, so the quantizers are as before and only
        // the constants tell the runs apart.
        Tensor fc2 = MODEL.constant("fc2.w");
        float[] w = fc2.data().clone();
        int largest = 0;
        for (int j = 1; j < fc2.shape().sizeExcept(0); j++) {
            largest = Math.abs(w[j]) > Math.abs(w[largest]) ? j : largest;
        }
        w[largest] = -w[largest];
        Model moved =
                MODEL.toBuilder().constant("fc2.w", new Tensor(fc2.shape(), w)).build();
        assertStartsAfresh(dir, recipe("minmax"), moved, CALIB);
    }

    @Test
    void changedQuantizerParametersStartAfresh(@TempDir Path dir) throws IOException {
        // The same model, data and optimizer options; only the weight quantizers' ranges come from another
        // initializer (MSE instead of min-max).
        assertStartsAfresh(dir, recipe("mse"), MODEL, CALIB);
    }
}
