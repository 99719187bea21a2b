package io.tinyptq.plugins.optimize;

import io.tinyptq.api.model.Activation;
import io.tinyptq.api.model.Model;
import io.tinyptq.api.model.Op;
import io.tinyptq.api.quant.Granularity;
import io.tinyptq.api.quant.QuantizedModel;
import io.tinyptq.api.quant.Quantizer;
import io.tinyptq.api.quant.Symmetry;
import io.tinyptq.api.spi.TrainingOps;
import io.tinyptq.api.spi.TrainingSession;
import java.util.OptionalInt;

/**
 * The exact refinement of a unit's hardened rounding ({@code round}'s {@code refine_sweeps}): where the unit ends in a
 * rounded fully-connected layer whose output meets the MSE, coordinate descent keeps every single weight's flip
 * between rounding down and up that lowers the loss over all cached samples, judged exactly: from the Gram matrix
 * without activation ({@link RoundingSearch}: the loss is quadratic in the weights), by re-evaluating the activated
 * output with one ({@link DenseRoundingSearch}). Every other rounding of the unit is hard while the layer's input is
 * read, as commit keeps it. It reads and writes the session's rounding variable only: {@code V}'s sign is the hard
 * rounding.
 */
final class RoundingRefinement {
    private RoundingRefinement() {}

    /**
     * Refines the rounding of {@code part}'s last layer in {@code session}, for at most {@code maxSweeps} passes.
     *
     * @param targets the unit's targets, {@code samples x outputs}
     * @return the number of flips kept, or empty where the unit does not end in a rounded fully-connected layer
     */
    static OptionalInt refine(
            TrainingSession session, QuantizedModel part, float[] targets, int samples, int maxSweeps) {
        Model m = part.model();
        Op last = m.ops().get(m.ops().size() - 1);
        if (!(last instanceof Op.FullyConnected fc)
                || !fc.output().equals(m.outputs().get(0))
                || !part.weightQuantizers().containsKey(fc.name())) {
            return OptionalInt.empty();
        }
        session.hyperparameter(TrainingOps.ROUNDING_HARD, 1);
        try {
            String variable = TrainingOps.roundingVariable(fc.name());
            float[] v = session.read(variable);
            float[] x = session.activations(fc.input());
            Rows rows = new Rows(part, fc, v);
            int flips = fc.activation() == Activation.NONE
                    ? quadratic(rows, x, session.activations(fc.output()), targets, samples, maxSweeps)
                    : activated(rows, fc, m, x, targets, samples, maxSweeps);
            session.write(variable, v);
            return OptionalInt.of(flips);
        } finally {
            session.hyperparameter(TrainingOps.ROUNDING_HARD, 0);
        }
    }

    /**
     * The layer's loss {@code Σ_n |W x_n + b - y_n|^2} separates into one quadratic per output neuron sharing the Gram
     * matrix of the inputs (see {@link RoundingSearch}); {@code yHat} is the output at the current hard rounding.
     */
    private static int quadratic(Rows rows, float[] x, float[] yHat, float[] y, int samples, int maxSweeps) {
        int d = rows.d;
        int outputs = rows.outputs;
        double[] h = new double[d * d];
        double[] g = new double[outputs * d];
        for (int s = 0; s < samples; s++) {
            for (int i = 0; i < d; i++) {
                double xi = x[s * d + i];
                if (xi == 0) {
                    continue;
                }
                for (int j = i; j < d; j++) {
                    h[i * d + j] += xi * x[s * d + j];
                }
                for (int c = 0; c < outputs; c++) {
                    g[c * d + i] += xi * ((double) yHat[s * outputs + c] - y[s * outputs + c]);
                }
            }
        }
        for (int i = 0; i < d; i++) {
            for (int j = 0; j < i; j++) {
                h[i * d + j] = h[j * d + i];
            }
        }
        float[] down = new float[d];
        float[] up = new float[d];
        boolean[] roundUp = new boolean[d];
        double[] gc = new double[d];
        int flips = 0;
        for (int o = 0; o < outputs; o++) {
            rows.read(o, down, up, roundUp);
            System.arraycopy(g, o * d, gc, 0, d);
            flips += RoundingSearch.refine(h, d, gc, down, up, roundUp, maxSweeps);
            rows.write(o, roundUp);
        }
        return flips;
    }

    /** Each output neuron's activated loss depends on its own weights only: neurons are refined one by one. */
    private static int activated(
            Rows rows, Op.FullyConnected fc, Model m, float[] x, float[] targets, int samples, int maxSweeps) {
        int d = rows.d;
        int outputs = rows.outputs;
        float[] bias = fc.bias() == null ? null : m.constant(fc.bias()).data();
        float lo = 0f;
        float hi = fc.activation() == Activation.RELU6 ? 6f : Float.POSITIVE_INFINITY;
        float[] down = new float[d];
        float[] up = new float[d];
        boolean[] roundUp = new boolean[d];
        float[] t = new float[samples];
        int flips = 0;
        for (int o = 0; o < outputs; o++) {
            for (int n = 0; n < samples; n++) {
                t[n] = targets[n * outputs + o];
            }
            rows.read(o, down, up, roundUp);
            flips +=
                    DenseRoundingSearch.refine(x, bias == null ? 0f : bias[o], t, lo, hi, down, up, roundUp, maxSweeps);
            rows.write(o, roundUp);
        }
        return flips;
    }

    /**
     * The hard rounding of a fully-connected weight {@code [outputs, d]}: per row, each weight's two grid values (its
     * quantizer's step and zero point, per channel along its channel axis or one for the tensor) and which one V picks.
     */
    private static final class Rows {
        final int outputs;
        final int d;
        private final float[] weight;
        private final float[] v;
        private final float[] scale;
        private final float[] zero;
        private final float qmin;
        private final float qmax;
        private final int channels;
        private final int inner;

        Rows(QuantizedModel part, Op.FullyConnected fc, float[] v) {
            Model m = part.model();
            int[] dims = m.constant(fc.weight()).shape().dims();
            this.outputs = dims[0];
            this.d = dims[1];
            this.weight = m.constant(fc.weight()).data();
            this.v = v;
            Quantizer q = part.weightQuantizers().get(fc.name());
            boolean perChannel = q.spec().granularity() == Granularity.PER_CHANNEL;
            int axis = perChannel ? q.spec().channelAxis() : fc.weightChannelAxis();
            this.channels = dims[axis];
            this.inner = axis == 0 ? d : 1;
            this.scale = new float[channels];
            this.zero = q.spec().symmetry() == Symmetry.SYMMETRIC ? null : new float[channels];
            for (int c = 0; c < channels; c++) {
                scale[c] = q.params().scale(perChannel ? c : 0);
                if (zero != null) {
                    zero[c] = q.params().zeroPoint(perChannel ? c : 0);
                }
            }
            this.qmin = q.spec().grid().n();
            this.qmax = q.spec().grid().p();
        }

        void read(int row, float[] down, float[] up, boolean[] roundUp) {
            for (int j = 0; j < d; j++) {
                int i = row * d + j;
                int c = (i / inner) % channels;
                float s = scale[c];
                float z = zero == null ? 0f : zero[c];
                float floor = (float) Math.floor(weight[i] / s) + z;
                down[j] = s * (Math.min(Math.max(floor, qmin), qmax) - z);
                up[j] = s * (Math.min(Math.max(floor + 1, qmin), qmax) - z);
                roundUp[j] = v[i] >= 0f;
            }
        }

        /** V's sign is the hard rounding (V >= 0 rounds up); its magnitude only matters to the soft one. */
        void write(int row, boolean[] roundUp) {
            for (int j = 0; j < d; j++) {
                int i = row * d + j;
                if (roundUp[j] != v[i] >= 0f) {
                    v[i] = roundUp[j] ? Math.max(-v[i], 0f) : -Math.max(v[i], Float.MIN_VALUE);
                }
            }
        }
    }
}
