package io.tinyptq.plugins.preprocess;

import io.tinyptq.api.model.Model;
import io.tinyptq.api.model.Op;
import io.tinyptq.api.model.Tensor;
import io.tinyptq.api.options.Option;
import io.tinyptq.api.spi.CalibrationSet;
import io.tinyptq.api.spi.ModelExecutor;
import io.tinyptq.api.spi.Preprocessor;
import io.tinyptq.api.spi.StageContext;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Cross-layer range equalization (Nagel et al., "Data-Free Quantization Through Weight Equalization and Bias
 * Correction", ICCV 2019, Sec. 4.1).
 *
 * <p>For a {@link LayerPair} {@code y = W2 f(W1 x + b1)} with {@code f} positively homogeneous, scaling output
 * channel {@code c} of the first layer by {@code 1/s_c} and input channel {@code c} of the second by {@code s_c}
 * leaves {@code y} unchanged: {@code W2 S f(S^-1 (W1 x + b1)) = W2 f(W1 x + b1)}. With the channel ranges
 * {@code r1_c = max|W1[c,:]|} and {@code r2_c = max|W2[:,c]|}, the choice {@code s_c = sqrt(r1_c / r2_c)} makes
 * both ranges {@code sqrt(r1_c r2_c)}, which maximizes the product of the two layers' per-channel precisions
 * (Nagel et al., Eq. 8-10). Chains (conv -> depthwise -> pointwise) are handled by sweeping every pair
 * repeatedly until no scale differs from 1 by more than the tolerance.
 *
 * <p>ReLU6: {@code min(max(x,0),6)} is not positively homogeneous, so by default a pair across ReLU6 is left
 * alone and the model's function is unchanged. {@code relu6: treat_as_relu} equalizes those pairs too, as if
 * ReLU6 were ReLU (the AIMET convention); that changes the function wherever a pre-activation exceeds 6 after
 * scaling, so it is an explicit opt-in.
 *
 * <p><b>Activation-aware equalization</b> ({@code activations: depthwise | all}). Nagel et al. equalize weights
 * because their weights are quantized per tensor. tinyptq quantizes weights per output channel, and then the
 * scale is free for the first layer (each of its output channels has its own step size) and, when the second
 * layer is depthwise, free for the second too (its channel {@code c} is its own output channel). What the scale
 * does change is the junction activation, which is quantized per tensor: channel {@code c} of it is multiplied by
 * {@code t_c = 1/s_c}. With {@code a_c} the channel's largest magnitude on the calibration data and
 * {@code A = max_c a_c}, the choice {@code t_c = (A / a_c)^alpha} ({@code alpha = activation_strength}) stretches
 * every channel towards the full range of the per-tensor grid, so a narrow channel no longer gets only one or two
 * of the 2^b levels. This works on {@link ChannelGroup}s, which extend pairs to forks and residual streams (there
 * several quantized tensors share the scale; see {@link #stretch}). {@code depthwise} covers the groups read only
 * by depthwise layers, where it costs nothing; {@code all} covers every group, where the consumers'
 * per-output-channel weight ranges then trade against the activation grid (SmoothQuant's migration strength, Xiao
 * et al. 2023). It runs after the weight sweeps, on the model they produced; with {@code alpha = 1} every channel
 * of a pair's junction ends at the widest channel's range, whatever the sweeps did there.
 */
public final class CrossLayerEqualization implements Preprocessor<CrossLayerEqualization.Options> {

    public enum Relu6 {
        SKIP,
        TREAT_AS_RELU
    }

    /** Which pairs equalize their junction activation's channel ranges instead of their weight ranges. */
    public enum ActivationPairs {
        NONE,
        DEPTHWISE,
        ALL
    }

    /**
     * @param maxSweeps maximum passes over all pairs
     * @param tolerance stop when every scale of a pass is within {@code 1 +- tolerance}
     * @param relu6     what to do with pairs joined through ReLU6
     * @param maxScale  bound on each channel's scale
     * @param activations which pairs equalize activation ranges (needs calibration data)
     * @param activationStrength exponent alpha of the activation equalization
     */
    public record Options(
            @Option(description = "maximum sweeps over all layer pairs", min = 1, max = 10000)
            int maxSweeps,

            @Option(description = "stop when every scale of a sweep is within 1 +- tolerance", min = 0, max = 1)
            double tolerance,

            @Option(description = "pairs across ReLU6: skip (exact) or treat_as_relu (changes the function)")
            Relu6 relu6,

            @Option(description = "bound on each channel's scale, s in [1/max_scale, max_scale]", min = 1)
            double maxScale,

            @Option(
                    description =
                            "layer groups whose activation channel ranges are equalized on the calibration data after"
                                    + " the weight equalization: none (Nagel et al.), depthwise (junctions read only by depthwise"
                                    + " layers, free with per-channel weights) or all (also across forks and residual adds)")
            ActivationPairs activations,

            @Option(
                    description = "exponent alpha of the activation equalization: channel c is stretched by"
                            + " (max range / its range)^alpha",
                    min = 0,
                    max = 1)
            double activationStrength) {}

    @Override
    public String name() {
        return "cle";
    }

    @Override
    public String description() {
        return "cross-layer range equalization of layer pairs joined by ReLU (Nagel et al. 2019)";
    }

    @Override
    public Class<Options> optionsType() {
        return Options.class;
    }

    @Override
    public Options defaultOptions() {
        return new Options(100, 1e-4, Relu6.SKIP, 100, ActivationPairs.NONE, 1);
    }

    @Override
    public Model apply(Model model, Options options, StageContext context) {
        List<LayerPair> pairs = LayerPair.find(model).stream()
                .filter(p -> !p.viaRelu6() || options.relu6() == Relu6.TREAT_AS_RELU)
                .toList();
        // Work on copies of the weights and biases involved; the input model is not modified.
        Map<String, float[]> values = new HashMap<>();
        for (LayerPair p : pairs) {
            for (String name : new String[] {
                p.first().weight(), p.first().bias(), p.second().weight()
            }) {
                if (name != null) {
                    values.computeIfAbsent(name, n -> model.constant(n).data().clone());
                }
            }
        }
        for (int sweep = 0; sweep < options.maxSweeps(); sweep++) {
            double worst = 0;
            for (LayerPair p : pairs) {
                worst = Math.max(worst, equalize(model, p, values, options.maxScale()));
            }
            context.progress().progress("cle sweeps", sweep + 1, options.maxSweeps());
            context.checkCancelled();
            if (worst <= options.tolerance()) {
                break;
            }
        }
        Model equalized = withValues(model, values);
        List<ChannelGroup> byActivation = ChannelGroup.find(equalized).stream()
                .filter(g -> !g.viaRelu6() || options.relu6() == Relu6.TREAT_AS_RELU)
                .filter(g -> switch (options.activations()) {
                    case NONE -> false;
                    case DEPTHWISE -> g.consumers().stream().allMatch(l -> l instanceof Op.DepthwiseConv2D);
                    case ALL -> true;
                })
                .toList();
        if (byActivation.isEmpty()) {
            return equalized;
        }
        Map<String, double[]> ranges = channelRanges(equalized, byActivation, context);
        for (ChannelGroup g : byActivation) {
            stretch(equalized, g, ranges, values, options);
        }
        return withValues(model, values);
    }

    /**
     * Activation equalization of one group. Each quantized tensor {@code T} of the group (a consumer's input) has
     * channel ranges {@code a^T_c} and widest range {@code A^T}; the group's channel {@code c} is as narrow as its
     * widest relative range {@code r_c = max_T a^T_c / A^T}, and is stretched by {@code t_c = r_c^-alpha}. With one
     * tensor (a pair) this is {@code (A / a_c)^alpha}; with several (a residual stream) no tensor's widest channel
     * grows, so no per-tensor range widens.
     */
    private static void stretch(
            Model model, ChannelGroup g, Map<String, double[]> ranges, Map<String, float[]> values, Options options) {
        double[] relative = new double[g.channels()];
        for (String t : g.quantizedTensors()) {
            double[] a = ranges.get(t);
            double widest = Arrays.stream(a).max().orElse(0);
            for (int c = 0; c < relative.length && widest > 0; c++) {
                relative[c] = Math.max(relative[c], a[c] / widest);
            }
        }
        double[] t = new double[g.channels()];
        for (int c = 0; c < t.length; c++) {
            // A channel that is (almost) never active keeps its scale: stretching it would only blow up noise.
            double stretch = relative[c] <= 1e-6 ? 1 : Math.pow(1 / relative[c], options.activationStrength());
            t[c] = Math.min(Math.max(stretch, 1 / options.maxScale()), options.maxScale());
        }
        for (Op.Layer p : g.producers()) {
            float[] w = values.computeIfAbsent(
                    p.weight(), n -> model.constant(n).data().clone());
            for (int i = 0; i < w.length; i++) {
                w[i] *= (float) t[ChannelGroup.outputChannel(model, p, i)];
            }
            if (p.bias() != null) {
                float[] b = values.computeIfAbsent(
                        p.bias(), n -> model.constant(n).data().clone());
                for (int c = 0; c < b.length; c++) {
                    b[c] *= (float) t[c % t.length];
                }
            }
        }
        for (Op.Layer q : g.consumers()) {
            float[] w = values.computeIfAbsent(
                    q.weight(), n -> model.constant(n).data().clone());
            for (int i = 0; i < w.length; i++) {
                w[i] /= (float) t[ChannelGroup.inputChannel(model, q, g.channels(), i)];
            }
        }
    }

    private static Model withValues(Model model, Map<String, float[]> values) {
        Model.Builder b = model.toBuilder();
        values.forEach(
                (name, v) -> b.constant(name, new Tensor(model.constant(name).shape(), v.clone())));
        return b.build();
    }

    /**
     * Largest magnitude of every channel of each group's quantized tensors (channels last, or flattened from
     * channels last: element {@code k} is channel {@code k % C}) over all calibration samples, from a float
     * forward pass of {@code model}.
     */
    private static Map<String, double[]> channelRanges(Model model, List<ChannelGroup> groups, StageContext context) {
        CalibrationSet calib = context.calibration();
        Map<String, double[]> ranges = new HashMap<>();
        for (ChannelGroup g : groups) {
            g.quantizedTensors().forEach(t -> ranges.put(t, new double[g.channels()]));
        }
        int batch = Math.min(64, calib.size());
        int sample = calib.sampleSize();
        try (ModelExecutor exec = context.backend().compile(model, null, batch)) {
            for (int start = 0; start < calib.size(); start += batch) {
                int n = Math.min(batch, calib.size() - start);
                float[] x = Arrays.copyOfRange(calib.data(), start * sample, (start + n) * sample);
                exec.forward(x, n, (tensor, v, offset, length) -> {
                    double[] r = ranges.get(tensor);
                    if (r != null) {
                        for (int i = 0; i < length; i++) {
                            int ch = i % r.length;
                            r[ch] = Math.max(r[ch], Math.abs(v[offset + i]));
                        }
                    }
                });
                context.progress().progress("cle activation ranges", start + n, calib.size());
                context.checkCancelled();
            }
        }
        return ranges;
    }

    /**
     * Equalizes one pair in place; returns the largest {@code |s_c - 1|}.
     *
     * <p>Guard: a channel whose weight range on either side is almost zero ({@code < 1e-6} of that layer's largest)
     * is left alone, and every scale is bounded by {@code maxScale}. Without the guard a nearly dead channel of the
     * first layer gets {@code s_c -> 0}, which divides its bias by {@code s_c}: the function is kept in float, but
     * the channel's activations explode and ruin a per-tensor activation quantizer (seen on MobileNetV1-VWW).
     */
    static double equalize(Model model, LayerPair p, Map<String, float[]> values, double maxScale) {
        int c = p.channels();
        float[] w1 = values.get(p.first().weight());
        float[] w2 = values.get(p.second().weight());
        double[] r1 = new double[c];
        double[] r2 = new double[c];
        for (int i = 0; i < w1.length; i++) {
            int ch = p.firstOutputChannel(model, i);
            r1[ch] = Math.max(r1[ch], Math.abs(w1[i]));
        }
        for (int i = 0; i < w2.length; i++) {
            int ch = p.secondInputChannel(model, i);
            r2[ch] = Math.max(r2[ch], Math.abs(w2[i]));
        }
        double max1 = 0;
        double max2 = 0;
        for (int ch = 0; ch < c; ch++) {
            max1 = Math.max(max1, r1[ch]);
            max2 = Math.max(max2, r2[ch]);
        }
        float[] s = new float[c];
        double worst = 0;
        for (int ch = 0; ch < c; ch++) {
            boolean dead = r1[ch] <= 1e-6 * max1 || r2[ch] <= 1e-6 * max2;
            double scale = dead ? 1 : Math.sqrt(r1[ch] / r2[ch]);
            s[ch] = (float) Math.min(Math.max(scale, 1 / maxScale), maxScale);
            worst = Math.max(worst, Math.abs(s[ch] - 1));
        }
        scale(model, p, values, s);
        return worst;
    }

    /** Divides output channel c of the first layer (weights and bias) by s_c and multiplies input channel c of the second by s_c. */
    static void scale(Model model, LayerPair p, Map<String, float[]> values, float[] s) {
        int c = p.channels();
        float[] w1 = values.get(p.first().weight());
        float[] w2 = values.get(p.second().weight());
        for (int i = 0; i < w1.length; i++) {
            w1[i] /= s[p.firstOutputChannel(model, i)];
        }
        if (p.first().bias() != null) {
            float[] b1 = values.get(p.first().bias());
            for (int ch = 0; ch < c; ch++) {
                b1[ch] /= s[ch];
            }
        }
        for (int i = 0; i < w2.length; i++) {
            w2[i] *= s[p.secondInputChannel(model, i)];
        }
    }
}
