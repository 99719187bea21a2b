package io.tinyptq.plugins.optimize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
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
            q.setParams(new QuantParams(new float[] {0.02f}, new float[] {q.target().equals("h") ? hZeroPoint : 3f}));
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
        assertEquals(root.resolve("round").resolve(first),
                Checkpoints.forRun(root, "round", OPTIONS, SEED, renamed, quantized()).dir());
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
        Model moved = m.toBuilder().constant("fc2.w", new Tensor(m.constant("fc2.w").shape(), w)).build();
        assertNotEquals(base, digest(OPTIONS, SEED, calib(samples()), quantized(moved, s -> s, 3f)), "model constants");

        UnaryOperator<float[]> oneScale = s -> {
            s[1] *= 1.01f;
            return s;
        };
        assertNotEquals(base, digest(OPTIONS, SEED, calib(samples()), quantized(model(), oneScale, 3f)),
                "a weight quantizer's scale");
        assertNotEquals(base, digest(OPTIONS, SEED, calib(samples()), quantized(model(), s -> s, 4f)),
                "an activation quantizer's zero-point");
        assertNotEquals(base, digest(OPTIONS, SEED, calib(samples()), QuantizedModel.simulate(model(),
                QuantScheme.of(4, 8))), "quantizers not yet initialized");
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

        QuantizedModel other = quantized(model(), s -> {
            java.util.Arrays.fill(s, 0.5f);
            return s;
        }, 3f);
        other.setModel(other.model().toBuilder().constant("fc1.w", Tensor.zeros(other.model().constant("fc1.w")
                .shape())).build());
        other.activationQuantizers().get("x").setParams(new QuantParams(new float[] {1f}, new float[] {0f}));
        assertTrue(checkpoints.restore(0, fc1, other));
        assertArrayEquals(weights, other.model().constant("fc1.w").data());
        assertEquals(scales, other.weightQuantizers().get("fc1").params());
        assertEquals(input, other.activationQuantizers().get("x").params());
    }
}
