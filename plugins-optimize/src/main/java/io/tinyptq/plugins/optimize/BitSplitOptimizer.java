package io.tinyptq.plugins.optimize;

import io.tinyptq.api.TinyPtqException;
import io.tinyptq.api.model.Model;
import io.tinyptq.api.model.Op;
import io.tinyptq.api.model.Tensor;
import io.tinyptq.api.options.Option;
import io.tinyptq.api.quant.IntegerGrid;
import io.tinyptq.api.quant.QuantParams;
import io.tinyptq.api.quant.QuantizedModel;
import io.tinyptq.api.quant.Quantizer;
import io.tinyptq.api.spi.CalibrationSet;
import io.tinyptq.api.spi.QuantOptimizer;
import io.tinyptq.api.spi.StageContext;
import java.util.Locale;

/**
 * {@code opt_bits}: BitSplit (Wang et al., "Towards Accurate Post-training Network Quantization via Bit-Split
 * and Stitching", ICML 2020), layer by layer.
 *
 * <p>For output channel {@code o} the quantized weight is {@code α_o e_o} with integer codes {@code e = q - z}. With {@code X_q} the layer's input patches as the quantized preceding model produces them
 * and {@code y_o = w_o · X_fp} the full-precision pre-activation outputs, the output error is
 * <pre>  E(q, α) = Σ_patches (α e·x_q - y_o)^2 = α² eᵀGe - 2α eᵀb + const,  e = q - z,
 *   G = Σ x_q x_qᵀ,  b = Σ x_q y_o.</pre>
 * As in the paper, the codes are split into {@code M = b - 1} ternary bit planes, {@code e = Σ_m 2^m β_m} with
 * {@code β_m ∈ {-1, 0, 1}}, spanning the symmetric range {@code [-(2^M - 1), 2^M - 1]} (the redundancy of
 * ternary digits lets a code move by any power of two without carries). One plane is optimized with the others
 * fixed, one digit at a time in closed form: changing {@code β_mj} moves {@code e_j} by {@code δ} and E by
 * {@code α²(2δ(Ge)_j + δ²G_jj) - 2αδ b_j}, and the digit value with the lowest E is kept. Planes go from the
 * most significant down; after each sweep the scale is re-solved in closed form, {@code α = eᵀb / eᵀGe}; the
 * planes are then stitched back into codes and the weight set to {@code α e}, on the quantizer's grid.
 *
 * <p>Only layer granularity exists: the closed form needs one linear map between cached inputs and outputs,
 * which a block with nonlinearities inside does not have (as the paper says of BitSplit).
 */
public final class BitSplitOptimizer implements QuantOptimizer<BitSplitOptimizer.Options> {

    public record Options(
            @Option(description = "reconstruction unit; only layer is possible for bit splitting")
            Granularity granularity,

            @Option(description = "calibration samples whose patches form the Gram matrix", min = 1, max = 1_000_000)
            int samples,

            @Option(
                    description = "sweeps over all bit planes, each followed by a closed-form scale",
                    min = 1,
                    max = 1000)
            int sweeps,

            @Option(
                    description = "scales tried in [0.5, 1.2] x the initial one before the sweeps",
                    min = 1,
                    max = 10000)
            int scaleCandidates) {
        public Options {
            if (granularity != Granularity.LAYER) {
                throw new IllegalArgumentException("bits works layer by layer only: its closed-form plane updates need"
                        + " a linear map from cached inputs to outputs, which a "
                        + granularity.name().toLowerCase(java.util.Locale.ROOT)
                        + " unit with activations inside lacks");
            }
        }
    }

    @Override
    public String name() {
        return "bits";
    }

    @Override
    public String description() {
        return "BitSplit: optimize integer weights bit plane by bit plane in closed form (Wang et al. 2020)";
    }

    @Override
    public Class<Options> optionsType() {
        return Options.class;
    }

    @Override
    public Options defaultOptions() {
        return new Options(Granularity.LAYER, 256, 5, 71);
    }

    @Override
    public void optimize(QuantizedModel qm, Options o, StageContext ctx) {
        // Targets come from the full-precision model, whatever an earlier stage stored in qm.model().
        Model fp = qm.reference();
        CalibrationSet calib = ctx.calibration();
        int n = Math.min(o.samples(), calib.size());
        int index = 0;
        for (Op.Layer layer : fp.layers()) {
            index++;
            Quantizer q = qm.weightQuantizers().get(layer.name());
            if (q == null) {
                continue;
            }
            if (q.spec().granularity() != io.tinyptq.api.quant.Granularity.PER_CHANNEL) {
                throw new TinyPtqException("bits: layer '" + layer.name() + "' has a per-tensor weight quantizer;"
                        + " bit splitting solves one scale per output channel (use weight_granularity: per_channel)");
            }
            String task = name() + " " + index + "/" + fp.layers().size() + " " + layer.name();
            int inSize = fp.shape(layer.input()).size();
            float[] xq = Reconstruction.capture(ctx, qm.model(), qm, layer.input(), calib, n, inSize);
            float[] xf = Reconstruction.capture(ctx, fp, null, layer.input(), calib, n, inSize);
            Patches patches = Patches.of(fp, layer);
            Tensor w = fp.constant(layer.weight());
            float[] wq = w.data().clone();
            float[] scale = new float[patches.channels()];
            double before = 0;
            double after = 0;
            // Every output channel of a convolution or dense layer meets the same input patches, so G is one matrix
            // per layer and only b depends on the channel; a depthwise channel has patches of its own.
            double[][] shared = patches.sharedPatches() ? patches.gramMatrix(xq, n, 0) : null;
            for (int oc = 0; oc < patches.channels(); oc++) {
                Normal normal = shared != null
                        ? new Normal(shared, patches.rhs(xq, xf, n, oc, w.data()))
                        : patches.gram(xq, xf, n, oc, w.data());
                double[] fit = solve(patches, w.data(), oc, normal, q, o.sweeps(), o.scaleCandidates(), wq, scale);
                before += fit[0];
                after += fit[1];
                ctx.checkCancelled();
            }
            q.setParams(new QuantParams(scale, q.params().zeroPoint()));
            qm.setModel(qm.model().toBuilder()
                    .constant(layer.weight(), new Tensor(w.shape(), wq))
                    .build());
            ctx.progress().progress(name(), index, fp.layers().size());
            ctx.progress().message(String.format(Locale.ROOT, "%s: output error %.4g -> %.4g", task, before, after));
        }
    }

    /**
     * Optimizes channel {@code oc}'s codes and scale; writes the weights into {@code wq} and the scale into
     * {@code scale}; returns the error before and after (without the constant term).
     */
    static double[] solve(
            Patches p,
            float[] w,
            int oc,
            Normal normal,
            Quantizer quantizer,
            int sweeps,
            int scaleCandidates,
            float[] wq,
            float[] scale) {
        double[][] g = normal.g();
        double[] b = normal.b();
        IntegerGrid grid = quantizer.spec().grid();
        int planes = quantizer.spec().bits() - 1;
        int top = (1 << planes) - 1;
        int[] idx = p.weightIndices(oc);
        int d = idx.length;
        double z = quantizer.params().zeroPoint(oc);
        double alpha =
                bestScale(w, idx, g, b, quantizer.params().scale(oc), top, grid.n() - z, grid.p() - z, scaleCandidates);
        // Codes relative to the zero-point, e = q - z, in the symmetric range [-(2^M - 1), 2^M - 1] that M ternary
        // planes span (M = b - 1), and their digits: digit[m][j] in {-1, 0, 1}, e_j = sum_m 2^m digit[m][j].
        int[][] digit = new int[planes][d];
        double[] e = new double[d];
        for (int j = 0; j < d; j++) {
            int code = (int) Math.min(Math.max(Math.rint(w[idx[j]] / alpha), -top), top);
            code = (int) Math.min(Math.max(code, grid.n() - z), grid.p() - z);
            e[j] = code;
            int mag = Math.abs(code);
            for (int m = 0; m < planes; m++) {
                digit[m][j] = ((mag >> m) & 1) * Integer.signum(code);
            }
        }
        double[] ge = multiply(g, e);
        double errBefore = error(e, ge, b, alpha);
        for (int sweep = 0; sweep < sweeps; sweep++) {
            for (int m = planes - 1; m >= 0; m--) {
                int step = 1 << m;
                for (int j = 0; j < d; j++) {
                    // Closed form for one ternary digit: try the other two values, keep the best if it helps.
                    double bestChange = 0;
                    int bestDigit = digit[m][j];
                    for (int candidate = -1; candidate <= 1; candidate++) {
                        double delta = (double) step * (candidate - digit[m][j]);
                        if (delta == 0 || e[j] + delta < grid.n() - z || e[j] + delta > grid.p() - z) {
                            continue;
                        }
                        double change = alpha * alpha * (2 * delta * ge[j] + delta * delta * g[j][j])
                                - 2 * alpha * delta * b[j];
                        if (change < bestChange) {
                            bestChange = change;
                            bestDigit = candidate;
                        }
                    }
                    if (bestDigit != digit[m][j]) {
                        double delta = (double) step * (bestDigit - digit[m][j]);
                        digit[m][j] = bestDigit;
                        e[j] += delta;
                        for (int k = 0; k < d; k++) {
                            ge[k] += delta * g[k][j];
                        }
                    }
                }
            }
            double ege = dot(e, ge);
            double eb = dot(e, b);
            if (ege > 0 && eb > 0) {
                alpha = eb / ege; // dE/dα = 2α eᵀGe - 2 eᵀb = 0
            }
        }
        for (int j = 0; j < d; j++) {
            wq[idx[j]] = (float) (alpha * e[j]);
        }
        scale[oc] = (float) alpha;
        return new double[] {errBefore, error(e, ge, b, alpha)};
    }

    /**
     * Output-aware start: the scale among {@code α0 · [0.5, 1.2]} ({@code candidates} points) whose nearest-rounded
     * codes give the lowest output error. Alternating codes and scale cannot leave a scale that is consistently
     * off (codes fit the scale and the scale fits the codes), so the start matters.
     */
    static double bestScale(
            float[] w,
            int[] idx,
            double[][] g,
            double[] b,
            double alpha0,
            int top,
            double lo,
            double hi,
            int candidates) {
        double best = alpha0;
        double bestErr = Double.POSITIVE_INFINITY;
        double[] e = new double[idx.length];
        for (int c = 0; c < candidates; c++) {
            double alpha = candidates == 1 ? alpha0 : alpha0 * (0.5 + 0.7 * c / (candidates - 1));
            for (int j = 0; j < idx.length; j++) {
                e[j] = Math.min(Math.max(Math.rint(w[idx[j]] / alpha), Math.max(-top, lo)), Math.min(top, hi));
            }
            double err = error(e, multiply(g, e), b, alpha);
            if (err < bestErr) {
                bestErr = err;
                best = alpha;
            }
        }
        return best;
    }

    static double error(double[] e, double[] ge, double[] b, double alpha) {
        return alpha * alpha * dot(e, ge) - 2 * alpha * dot(e, b);
    }

    static double[] multiply(double[][] g, double[] v) {
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            double s = 0;
            for (int j = 0; j < v.length; j++) {
                s += g[i][j] * v[j];
            }
            out[i] = s;
        }
        return out;
    }

    static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    /** The normal equations of one channel: Gram matrix {@code G} and right-hand side {@code b}. */
    record Normal(double[][] g, double[] b) {}
}
