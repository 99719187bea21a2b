package io.tinyptq.plugins.preprocess;

import io.tinyptq.api.model.Model;
import io.tinyptq.api.model.Tensor;
import io.tinyptq.api.options.Option;
import io.tinyptq.api.spi.Preprocessor;
import io.tinyptq.api.spi.StageContext;
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
 */
public final class CrossLayerEqualization implements Preprocessor<CrossLayerEqualization.Options> {

    public enum Relu6 { SKIP, TREAT_AS_RELU }

    /**
     * @param maxSweeps maximum passes over all pairs
     * @param tolerance stop when every scale of a pass is within {@code 1 +- tolerance}
     * @param relu6     what to do with pairs joined through ReLU6
     */
    public record Options(
            @Option(description = "maximum sweeps over all layer pairs", min = 1, max = 10000) int maxSweeps,
            @Option(description = "stop when every scale of a sweep is within 1 +- tolerance", min = 0, max = 1) double tolerance,
            @Option(description = "pairs across ReLU6: skip (exact) or treat_as_relu (changes the function)") Relu6 relu6,
            @Option(description = "bound on each channel's scale, s in [1/max_scale, max_scale]", min = 1) double maxScale) {
    }

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
        return new Options(100, 1e-4, Relu6.SKIP, 100);
    }

    @Override
    public Model apply(Model model, Options options, StageContext context) {
        List<LayerPair> pairs = LayerPair.find(model).stream()
                .filter(p -> !p.viaRelu6() || options.relu6() == Relu6.TREAT_AS_RELU).toList();
        // Work on copies of the weights and biases involved; the input model is not modified.
        Map<String, float[]> values = new HashMap<>();
        for (LayerPair p : pairs) {
            for (String name : new String[] {p.first().weight(), p.first().bias(), p.second().weight()}) {
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
        Model.Builder b = model.toBuilder();
        values.forEach((name, v) -> b.constant(name, new Tensor(model.constant(name).shape(), v)));
        return b.build();
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
        return worst;
    }
}
