package io.tinyptq.plugins.optimize;

import io.tinyptq.api.TinyPtqException;
import io.tinyptq.api.model.Model;
import io.tinyptq.api.model.Op;
import io.tinyptq.api.model.Unit;
import io.tinyptq.api.model.Units;
import io.tinyptq.api.quant.QuantizedModel;
import io.tinyptq.api.spi.CalibrationSet;
import io.tinyptq.api.spi.StageContext;
import io.tinyptq.api.spi.TrainingProblem;
import io.tinyptq.api.spi.TrainingSession;
import io.tinyptq.api.spi.TrainingSettings;
import io.tinyptq.api.spi.Variable;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The weights of the {@link ReconstructionLoss#OUTPUT} loss: how much an error in each element of a unit's output
 * changes the model's prediction, per calibration sample.
 *
 * <p>Derivation. Let {@code z} be the unit's output, {@code l(z)} the logits of the rest of the model (in full
 * precision), {@code p} the full-precision model's class probabilities and {@code q = softmax(l)}. The KL divergence
 * {@code KL(p || q)} is minimal at {@code q = p}; its Hessian in the logits there is {@code diag p - p p^T}, so in
 * {@code z} it is {@code J^T (diag p - p p^T) J} with {@code J = dl/dz}, and an output error {@code dz} changes the
 * divergence by {@code dz^T J^T (diag p - p p^T) J dz / 2} to second order. Its diagonal is
 * {@code F_i = sum_y p_y ((J^T (e_y - q))_i)^2} with {@code q = p}, the Fisher information of the model's class
 * distribution, which the loss uses as the weight of {@code dz_i^2} (dropping the off-diagonal terms, as BRECQ's
 * Fisher loss does). {@code J^T (q - e_y)} is the gradient of the cross-entropy of class {@code y} at {@code z}, so
 * one backward pass per class gives every sample's {@code F}; {@code q} is taken at the model quantized up to and
 * including the unit, where the next unit will meet it.
 */
public final class OutputFisher {
    private OutputFisher() {
    }

    /**
     * The loss weights of unit {@code u}'s output, {@code (F / mean F + damping) / (1 + damping)}, for the first
     * {@code n} calibration samples of {@code ctx}, sample-major like the unit's cached targets.
     *
     * @param fp    the full-precision model
     * @param qm    the model being quantized, units before {@code u} already optimized (committed)
     * @param batch samples per backward pass
     */
    public static float[] weights(StageContext ctx, Model fp, QuantizedModel qm, List<Unit> units, int u, int n,
                                  int batch, boolean quantizeActivations, double damping) {
        CalibrationSet calib = ctx.calibration();
        QuantizedModel tillUnit = quantizedTill(qm, units, u);
        Model head = tillUnit.model();
        String logits = Units.logits(head);
        int classes = head.shape(logits).size();
        float[] x = Arrays.copyOf(calib.data(), n * calib.sampleSize());
        float[] p = Reconstruction.capture(ctx, fp, null, logits, calib, n, classes);
        for (int i = 0; i < n; i++) {
            softmaxInPlace(p, i * classes, classes);
        }
        String output = units.get(u).output();
        double[] f = null;
        int[] labels = new int[n];
        for (int y = 0; y < classes; y++) {
            Arrays.fill(labels, y);
            float[] g;
            try (TrainingSession session = ctx.backend().train(TrainingProblem.classification(tillUnit,
                    Set.of(Variable.BIASES), x, labels, quantizeActivations),
                    new TrainingSettings(1e-3, Math.min(batch, n), 0))) {
                g = session.gradients(output);
            } catch (UnsupportedOperationException e) {
                throw new TinyPtqException("output-weighted reconstruction: the backend '"
                        + ctx.backend().info().backend() + "' cannot compute output gradients: " + e.getMessage());
            }
            int size = g.length / n;
            if (f == null) {
                f = new double[g.length];
            }
            for (int i = 0; i < n; i++) {
                double py = p[i * classes + y];
                for (int k = i * size; k < (i + 1) * size; k++) {
                    f[k] += py * g[k] * (double) g[k];
                }
            }
            ctx.checkCancelled();
        }
        return normalized(f, damping);
    }

    /** {@code (f / mean f + d) / (1 + d)}, mean 1; all ones where {@code f} is zero everywhere. */
    public static float[] normalized(double[] f, double damping) {
        double mean = 0;
        for (double v : f) {
            mean += v;
        }
        mean /= f.length;
        float[] w = new float[f.length];
        for (int i = 0; i < f.length; i++) {
            w[i] = mean > 0 ? (float) ((f[i] / mean + damping) / (1 + damping)) : 1f;
        }
        return w;
    }

    private static void softmaxInPlace(float[] logits, int from, int count) {
        float max = Float.NEGATIVE_INFINITY;
        for (int k = from; k < from + count; k++) {
            max = Math.max(max, logits[k]);
        }
        double sum = 0;
        for (int k = from; k < from + count; k++) {
            sum += Math.exp(logits[k] - max);
        }
        for (int k = from; k < from + count; k++) {
            logits[k] = (float) (Math.exp(logits[k] - max) / sum);
        }
    }

    /**
     * The model up to its logits, quantized in the layers of units {@code 0..u} and in the tensors they read; the
     * rest stays in full precision.
     */
    static QuantizedModel quantizedTill(QuantizedModel qm, List<Unit> units, int u) {
        Model head = Units.toLogits(qm.model());
        Set<String> quantizedLayers = new HashSet<>();
        Set<String> quantizedTensors = new HashSet<>();
        for (int i = 0; i <= u; i++) {
            for (Op op : units.get(i).ops()) {
                quantizedLayers.add(op.name());
                quantizedTensors.addAll(op.inputs());
            }
        }
        return qm.restrict(head).keepOnly(quantizedLayers, quantizedTensors);
    }
}
