package io.tinyptq.testkit;

import io.tinyptq.api.model.Activation;
import io.tinyptq.api.model.Model;
import io.tinyptq.api.model.Op;
import io.tinyptq.api.model.Padding;
import io.tinyptq.api.model.Shape;
import io.tinyptq.api.model.Unit;
import io.tinyptq.api.model.Units;
import io.tinyptq.api.options.NoOptions;
import io.tinyptq.api.quant.FakeQuant;
import io.tinyptq.api.quant.QuantParams;
import io.tinyptq.api.quant.QuantScheme;
import io.tinyptq.api.quant.QuantizedModel;
import io.tinyptq.api.quant.Quantizer;
import io.tinyptq.api.spi.ModelExecutor;
import io.tinyptq.api.spi.TrainingProblem;
import io.tinyptq.api.spi.Variable;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Layer-wise reconstruction problems with ResNet-8's layer shapes ({@link TinyModels#resnet8}), for comparing
 * backends' training sessions and timing them: each is one layer cut out as a unit, its quantizers initialized
 * (weights symmetric per channel from their largest magnitude, the input asymmetric per tensor from its range),
 * inputs drawn as post-ReLU activations and targets the float layer's outputs slightly perturbed.
 */
public final class LayerProblems {
    /** One layer of each distinct ResNet-8 shape: 3x3 convolutions at three resolutions, strided, 1x1, dense. */
    public static final List<String> RESNET8_SHAPES = List.of(
            "conv1", "b1.conv1", "b2.conv1", "b2.conv2", "b2.shortcut", "b3.conv1", "b3.conv2", "b3.shortcut", "fc");

    private LayerProblems() {}

    /** The unit of ResNet-8 layer {@code layer} as a rounding problem over {@code samples} samples. */
    public static TrainingProblem resnet8(String layer, int samples, int wbits, int abits, long seed) {
        Model m = TinyModels.resnet8(1);
        Op.Layer l = (Op.Layer) m.op(layer);
        Unit unit = Units.layers(m).stream()
                .filter(u -> u.name().equals(layer))
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no layer '" + layer + "' in " + RESNET8_SHAPES));
        return problem(Units.slice(m, unit), l, samples, wbits, abits, seed);
    }

    /**
     * A depthwise 3x3 layer ({@code [h, w, c]} input, channel multiplier {@code multiplier}, SAME padding) as a
     * rounding problem: DS-CNN's and MobileNet's depthwise shapes.
     */
    public static TrainingProblem depthwise(
            int h,
            int w,
            int c,
            int multiplier,
            int stride,
            Activation act,
            int samples,
            int wbits,
            int abits,
            long seed) {
        SplittableRandom r = new SplittableRandom(seed ^ 0x9E3779B9L);
        Model m = Model.builder("dw" + h + "x" + w + "x" + c)
                .input("x", Shape.of(h, w, c))
                .constant("dw.w", TinyModels.gaussian(r, Math.sqrt(2.0 / 9), 3, 3, c * multiplier))
                .constant("dw.b", TinyModels.gaussian(r, 0.1, c * multiplier))
                .op(new Op.DepthwiseConv2D(
                        "dw", "x", "dw.w", "dw.b", "y", stride, stride, Padding.SAME, multiplier, act))
                .output("y")
                .build();
        return problem(m, (Op.Layer) m.op("dw"), samples, wbits, abits, seed);
    }

    /** A rounding problem for the one-layer model {@code slice}. */
    public static TrainingProblem problem(Model slice, Op.Layer layer, int samples, int wbits, int abits, long seed) {
        QuantizedModel qm = QuantizedModel.simulate(slice, QuantScheme.of(wbits, abits));
        SplittableRandom r = new SplittableRandom(seed);
        int inSize = slice.shape(layer.input()).size();
        float[] inputs = new float[samples * inSize];
        for (int i = 0; i < inputs.length; i++) {
            // post-ReLU-like: a third zeros, the rest half-normal
            inputs[i] = r.nextInt(3) == 0 ? 0f : (float) Math.abs(TinyModels.gauss(r));
        }
        for (Quantizer q : qm.activationQuantizers().values()) {
            float lo = Float.POSITIVE_INFINITY;
            float hi = Float.NEGATIVE_INFINITY;
            for (float v : inputs) {
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
            }
            float[] sz = FakeQuant.fromRange(lo, hi, q.spec());
            q.setParams(new QuantParams(new float[] {sz[0]}, new float[] {sz[1]}));
        }
        for (Quantizer q : qm.weightQuantizers().values()) {
            float[] w = slice.constant(layer.weight()).data();
            int[] dims = slice.constant(layer.weight()).shape().dims();
            int axis = q.spec().channelAxis();
            int channels = dims[axis];
            int inner = 1;
            for (int d = axis + 1; d < dims.length; d++) {
                inner *= dims[d];
            }
            float[] s = new float[channels];
            for (int i = 0; i < w.length; i++) {
                int c = (i / inner) % channels;
                s[c] = Math.max(s[c], Math.abs(w[i]));
            }
            for (int c = 0; c < channels; c++) {
                s[c] = FakeQuant.symmetricScale(s[c], q.spec().grid());
            }
            q.setParams(new QuantParams(s, new float[channels]));
        }
        float[] targets = new ReferenceBackend()
                .compile(slice, null, samples, NoOptions.INSTANCE)
                .forward(inputs, samples, ModelExecutor.ActivationListener.NONE);
        for (int i = 0; i < targets.length; i++) {
            targets[i] += (float) (0.01 * TinyModels.gauss(r));
        }
        return new TrainingProblem(qm, Set.of(Variable.ROUNDING), inputs, targets, samples, true, null);
    }
}
