package io.tinyptq.plugins.optimize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyptq.api.model.Model;
import io.tinyptq.api.model.Op;
import io.tinyptq.api.model.Tensor;
import io.tinyptq.api.model.Unit;
import io.tinyptq.api.model.Units;
import io.tinyptq.api.quant.QuantParams;
import io.tinyptq.api.quant.QuantScheme;
import io.tinyptq.api.quant.QuantizedModel;
import io.tinyptq.api.quant.Quantizer;
import io.tinyptq.api.spi.CalibrationSet;
import io.tinyptq.testkit.TinyModels;
import java.nio.file.Path;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The checkpoint folder's digest: equal inputs give the same folder (a rerun resumes), and each input a unit's
 * result depends on (options, seed, calibration samples, model constants, quantizer parameters) changes it on its
 * own, so a run on anything else never resumes from units fitted to other inputs.
 */
class CheckpointsTest {
    static final String OPTIONS = "Options[iterations=40, learningRate=0.01]";
    static final long SEED = 4;

    static Model model() {
        return TinyModels.mlp(1, 4, 5, 2);
    }

    static CalibrationSet calib(float[] data) {
        return new CalibrationSet("uniform", model().shape("x"), data, new int[0]);
    }

    static float[] samples() {
        return TinyModels.uniform(3, 16, model().shape("x"), -1f, 1f);
    }

    /** The MLP with W4A8 quantizers whose parameters are all set, as the optimization stage receives them. */
    static QuantizedModel quantized(Model m, UnaryOperator<float[]> fc1Scale, float hZeroPoint) {
        QuantizedModel qm = QuantizedModel.simulate(m, QuantScheme.of(4, 8));
        for (Quantizer q : qm.weightQuantizers().values()) {
            int c = m.constant(((Op.Layer) m.op(q.target())).weight()).shape().dim(0);
            float[] s = new float[c];
            for (int i = 0; i < c; i++) {
                s[i] = 0.05f + 0.01f * i;
            }
            q.setParams(new QuantParams(q.target().equals("fc1") ? fc1Scale.apply(s) : s, new float[c]));
        }
        for (Quantizer q : qm.activationQuantizers().values()) {
            q.setParams(
                    new QuantParams(new float[] {0.02f}, new float[] {q.target().equals("h") ? hZeroPoint : 3f}));
        }
        return qm;
    }

    static QuantizedModel quantized() {
        return quantized(model(), s -> s, 3f);
    }

    static String digest(String options, long seed, CalibrationSet calib, QuantizedModel qm) {
        return Checkpoints.fingerprint(options, seed, calib, qm);
    }

    @Test
    void equalInputsGiveTheSameFolder(@TempDir Path root) {
        String first = digest(OPTIONS, SEED, calib(samples()), quantized());
        // Built again from scratch: other objects, equal contents, other source name.
        CalibrationSet renamed = new CalibrationSet("the same samples", model().shape("x"), samples(), new int[0]);
        assertEquals(first, digest(OPTIONS, SEED, renamed, quantized()));
        assertEquals(16, first.length());
        assertEquals(
                root.resolve("round").resolve(first),
                Checkpoints.forRun(root, "round", OPTIONS, SEED, renamed, quantized())
                        .dir());
    }

    @Test
    void eachInputOfTheStageChangesTheFolderOnItsOwn() {
        String base = digest(OPTIONS, SEED, calib(samples()), quantized());
        assertNotEquals(base, digest(OPTIONS.replace("40", "41"), SEED, calib(samples()), quantized()), "options");
        assertNotEquals(base, digest(OPTIONS, SEED + 1, calib(samples()), quantized()), "seed");

        float[] other = samples();
        other[37] += 1e-3f;
        assertNotEquals(base, digest(OPTIONS, SEED, calib(other), quantized()), "one calibration value");
        float[] fewer = java.util.Arrays.copyOf(samples(), 15 * 4);
        assertNotEquals(base, digest(OPTIONS, SEED, calib(fewer), quantized()), "one sample fewer");

        // The same quantizer parameters on a model with one weight moved (a preprocessing step's effect).
        Model m = model();
        float[] w = m.constant("fc2.w").data().clone();
        w[3] += 1e-3f;
        Model moved = m.toBuilder()
                .constant("fc2.w", new Tensor(m.constant("fc2.w").shape(), w))
                .build();
        assertNotEquals(base, digest(OPTIONS, SEED, calib(samples()), quantized(moved, s -> s, 3f)), "model constants");

        UnaryOperator<float[]> oneScale = s -> {
            s[1] *= 1.01f;
            return s;
        };
        assertNotEquals(
                base,
                digest(OPTIONS, SEED, calib(samples()), quantized(model(), oneScale, 3f)),
                "a weight quantizer's scale");
        assertNotEquals(
                base,
                digest(OPTIONS, SEED, calib(samples()), quantized(model(), s -> s, 4f)),
                "an activation quantizer's zero-point");
        assertNotEquals(
                base,
                digest(OPTIONS, SEED, calib(samples()), QuantizedModel.simulate(model(), QuantScheme.of(4, 8))),
                "quantizers not yet initialized");
    }

    /** What a resumed run relies on: restore puts back exactly the unit's weights and quantizer parameters. */
    @Test
    void aSavedUnitRestoresItsWeightsAndQuantizers(@TempDir Path dir) {
        QuantizedModel qm = quantized();
        Unit fc1 = Units.layers(qm.model()).get(0);
        Checkpoints checkpoints = new Checkpoints(dir);
        assertFalse(checkpoints.restore(0, fc1, qm), "no checkpoint yet");
        checkpoints.save(0, fc1, qm);
        float[] weights = qm.model().constant("fc1.w").data().clone();
        QuantParams scales = qm.weightQuantizers().get("fc1").params();
        QuantParams input = qm.activationQuantizers().get("x").params();

        QuantizedModel other = quantized(
                model(),
                s -> {
                    java.util.Arrays.fill(s, 0.5f);
                    return s;
                },
                3f);
        other.setModel(other.model().toBuilder()
                .constant("fc1.w", Tensor.zeros(other.model().constant("fc1.w").shape()))
                .build());
        other.activationQuantizers().get("x").setParams(new QuantParams(new float[] {1f}, new float[] {0f}));
        assertTrue(checkpoints.restore(0, fc1, other));
        assertArrayEquals(weights, other.model().constant("fc1.w").data());
        assertEquals(scales, other.weightQuantizers().get("fc1").params());
        assertEquals(input, other.activationQuantizers().get("x").params());
    }

    /**
     * A damaged checkpoint never resumes silently (a unit's weights negated in place once resumed to 25 % accuracy):
     * a changed byte, an empty or truncated file, and a length field that would size a huge allocation each fail
     * naming the file, and leave the model as it was.
     */
    @Test
    void damagedCheckpointsFailNamingTheFile(@TempDir Path dir) throws Exception {
        QuantizedModel qm = quantized();
        Unit fc1 = Units.layers(qm.model()).get(0);
        Checkpoints checkpoints = new Checkpoints(dir);
        checkpoints.save(0, fc1, qm);
        Path file = dir.resolve("unit-000.ckpt");
        byte[] good = java.nio.file.Files.readAllBytes(file);

        byte[] flipped = good.clone();
        flipped[good.length / 2] ^= (byte) 0x80; // a sign bit of some weight
        java.nio.file.Files.write(file, flipped);
        QuantizedModel target = quantized();
        float[] before = target.model().constant("fc1.w").data().clone();
        String m = assertThrows(io.tinyptq.api.TinyPtqException.class, () -> checkpoints.restore(0, fc1, target))
                .getMessage();
        assertTrue(m.startsWith("checkpoint " + file + " does not match its SHA-256 checksum"), m);
        assertArrayEquals(before, target.model().constant("fc1.w").data(), "nothing restored");

        java.nio.file.Files.write(file, new byte[0]);
        m = assertThrows(io.tinyptq.api.TinyPtqException.class, () -> checkpoints.restore(0, fc1, target))
                .getMessage();
        assertTrue(m.startsWith("checkpoint " + file + " is 0 bytes, too short"), m);

        // A length field of 0x7fffffff behind a valid checksum: refused by the expected size, not an OutOfMemoryError.
        byte[] huge = good.clone();
        int at = lengthFieldOfFirstEntry(good);
        java.nio.ByteBuffer.wrap(huge).putInt(at, Integer.MAX_VALUE);
        byte[] digest = Checkpoints.sha256(huge, huge.length - 32);
        System.arraycopy(digest, 0, huge, huge.length - 32, 32);
        java.nio.file.Files.write(file, huge);
        m = assertThrows(io.tinyptq.api.TinyPtqException.class, () -> checkpoints.restore(0, fc1, target))
                .getMessage();
        assertTrue(m.contains("holds 2147483647 values for 'fc1.w', which has 20"), m);

        java.nio.file.Files.write(file, good);
        assertTrue(checkpoints.restore(0, fc1, target), "the undamaged checkpoint restores");
    }

    /** Offset of the first entry's array length: magic, unit name (UTF), count, kind char, entry name (UTF). */
    private static int lengthFieldOfFirstEntry(byte[] checkpoint) throws java.io.IOException {
        var in = new java.io.DataInputStream(new java.io.ByteArrayInputStream(checkpoint));
        in.readInt();
        String unit = in.readUTF();
        in.readInt();
        in.readChar();
        String entry = in.readUTF();
        return 4
                + 2
                + unit.getBytes(java.nio.charset.StandardCharsets.UTF_8).length
                + 4
                + 2
                + 2
                + entry.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
    }
}
