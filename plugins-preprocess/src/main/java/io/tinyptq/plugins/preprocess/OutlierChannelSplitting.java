package io.tinyptq.plugins.preprocess;

import io.tinyptq.api.model.Model;
import io.tinyptq.api.model.Op;
import io.tinyptq.api.model.Shape;
import io.tinyptq.api.model.Tensor;
import io.tinyptq.api.options.Option;
import io.tinyptq.api.spi.Preprocessor;
import io.tinyptq.api.spi.StageContext;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Outlier channel splitting (Zhao et al., "Improving Neural Network Quantization without Retraining using
 * Outlier Channel Splitting", ICML 2019), applied to weights.
 *
 * <p>For a {@link LayerPair} {@code y = W2 f(W1 x + b1)}, let input channel {@code c} of the second layer hold
 * the largest {@code |W2|}. Duplicating output channel {@code c} of the first layer (weights and bias) makes a
 * channel {@code c'} carrying the same activation {@code a_c}; halving column {@code c} of {@code W2} and using
 * the halved copy for {@code c'} keeps {@code y}: {@code (w/2) a_c + (w/2) a_c' = w a_c}. The outlier is halved,
 * so the second layer's weight range shrinks, at the cost of one more channel. Repeating on the new largest
 * weight until {@code ceil(expand_ratio * C)} channels were added gives Zhao et al.'s expand ratio. Every
 * activation between the layers acts per channel, so the duplicate sees the same function (ReLU6 included).
 *
 * <p>Eligible pairs: first and second layer each a convolution (2-D or 1-D) or fully connected layer, joined
 * without a reshape (a flatten would interleave the new channel with spatial positions). Depthwise layers are
 * left alone: their channel multiplier ties input and output channels together.
 */
public final class OutlierChannelSplitting implements Preprocessor<OutlierChannelSplitting.Options> {

    /** @param expandRatio channels added per eligible layer, as a fraction of its input channels */
    public record Options(
            @Option(
                    description = "channels added per eligible layer, as a fraction of its input channels",
                    min = 0,
                    max = 1)
            double expandRatio) {}

    @Override
    public String name() {
        return "ocs";
    }

    @Override
    public String description() {
        return "outlier channel splitting: halve and duplicate the channel holding the largest weight"
                + " (Zhao et al. 2019)";
    }

    @Override
    public Class<Options> optionsType() {
        return Options.class;
    }

    @Override
    public Options defaultOptions() {
        return new Options(0.05);
    }

    @Override
    public Model apply(Model model, Options options, StageContext context) {
        List<LayerPair> pairs = LayerPair.find(model).stream()
                .filter(OutlierChannelSplitting::eligible)
                .toList();
        Map<String, Tensor> current = new HashMap<>();
        int done = 0;
        for (LayerPair p : pairs) {
            int splits = (int) Math.ceil(options.expandRatio() * p.channels() - 1e-9);
            for (int k = 0; k < splits; k++) {
                split(p, model, current);
            }
            context.progress().progress("ocs layers", ++done, pairs.size());
            context.checkCancelled();
        }
        Model.Builder b = model.toBuilder();
        current.forEach(b::constant);
        return b.build();
    }

    static boolean eligible(LayerPair p) {
        return !(p.first() instanceof Op.DepthwiseConv2D)
                && !(p.second() instanceof Op.DepthwiseConv2D)
                && p.between().stream().noneMatch(Op.Reshape.class::isInstance);
    }

    /** One split: the second layer's input channel holding the largest |w| is halved and appended as a copy. */
    static void split(LayerPair p, Model model, Map<String, Tensor> current) {
        Tensor w2 = current.getOrDefault(
                p.second().weight(), model.constant(p.second().weight()));
        int[] d2 = w2.shape().dims();
        int cin = d2[d2.length - 1];
        float[] v2 = w2.data();
        int outlier = 0;
        float largest = -1;
        for (int i = 0; i < v2.length; i++) {
            if (Math.abs(v2[i]) > largest) {
                largest = Math.abs(v2[i]);
                outlier = i % cin;
            }
        }
        // Second layer: channels are the last axis; append a column holding half of column `outlier`.
        int outer = v2.length / cin;
        float[] n2 = new float[outer * (cin + 1)];
        for (int o = 0; o < outer; o++) {
            System.arraycopy(v2, o * cin, n2, o * (cin + 1), cin);
            float half = v2[o * cin + outlier] / 2;
            n2[o * (cin + 1) + outlier] = half;
            n2[o * (cin + 1) + cin] = half;
        }
        d2[d2.length - 1] = cin + 1;
        current.put(p.second().weight(), new Tensor(Shape.of(d2), n2));

        // First layer: output channels are axis 0; append a copy of row `outlier` (and its bias).
        Tensor w1 = current.getOrDefault(
                p.first().weight(), model.constant(p.first().weight()));
        int[] d1 = w1.shape().dims();
        int row = w1.data().length / d1[0];
        float[] n1 = Arrays.copyOf(w1.data(), w1.data().length + row);
        System.arraycopy(w1.data(), outlier * row, n1, d1[0] * row, row);
        d1[0] += 1;
        current.put(p.first().weight(), new Tensor(Shape.of(d1), n1));
        if (p.first().bias() != null) {
            Tensor b1 = current.getOrDefault(
                    p.first().bias(), model.constant(p.first().bias()));
            float[] nb = Arrays.copyOf(b1.data(), b1.data().length + 1);
            nb[b1.data().length] = b1.data()[outlier];
            current.put(p.first().bias(), new Tensor(Shape.of(nb.length), nb));
        }
    }
}
