package io.tinyptq.backend.cpu;

import io.tinyptq.api.model.Activation;
import io.tinyptq.api.model.Model;
import io.tinyptq.api.model.Op;
import io.tinyptq.api.model.Padding;
import io.tinyptq.api.model.Tensor;
import io.tinyptq.api.quant.Granularity;
import io.tinyptq.api.quant.QuantParams;
import io.tinyptq.api.quant.QuantizedModel;
import io.tinyptq.api.quant.Quantizer;
import io.tinyptq.api.quant.Symmetry;
import io.tinyptq.api.spi.TrainingOps;
import io.tinyptq.api.spi.TrainingProblem;
import io.tinyptq.api.spi.TrainingSettings;
import io.tinyptq.api.spi.Variable;
import io.tinyptq.backend.cpu.engine.Graph;
import io.tinyptq.backend.cpu.engine.Param;
import io.tinyptq.backend.cpu.engine.Value;
import io.tinyptq.backend.cpu.kernels.AdaRound;
import io.tinyptq.backend.cpu.kernels.Parallel;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A {@link TrainingProblem} compiled onto the autodiff {@link Graph}: the IR's ops become graph nodes, each layer's
 * weight passes through its quantizer (fake quantization with LSQ gradients, or the problem's rounding operation when
 * the variable is the rounding), each quantized activation tensor through its quantizer when the problem keeps
 * activations quantized, and the output meets the targets in the problem's objective. {@link CpuTrainingSession}
 * runs it.
 */
final class UnitGraph {
    final TrainingProblem problem;
    final TrainingSettings settings;
    final Graph graph;
    final Value input;
    /** QDrop: the full-precision inputs, mixed element-wise with the quantized ones on training steps (or null). */
    Value fpInput;

    final Value target;
    /** Per-element weights of BRECQ's Fisher-weighted MSE, gathered per batch like the targets (or null). */
    final Value fisher;
    /** Each tensor's value as its op produced it (before activation quantizers), for gradients. */
    final Map<String, Value> raw = new HashMap<>();
    /** Each tensor's value as the ops reading it get it (after its activation quantizer). */
    final Map<String, Value> values = new HashMap<>();

    final Value loss;
    /** The label buffer of a cross-entropy objective (else null). */
    final int[] labels;

    final int inSize;
    final int outSize;
    /** Activation scales that train with their own Adam, by quantizer (zero points stay fixed). */
    final Map<Quantizer, Param> activationScales = new LinkedHashMap<>();
    /** Trainable or written-back parameters by IR name: weight and bias constants. */
    final Map<String, Param> constants = new LinkedHashMap<>();
    /** Each rounded layer's rounding variable V, by layer name. */
    final Map<String, Param> vs = new LinkedHashMap<>();
    /** Scale and zero point (null when symmetric) of every quantizer in the graph. */
    final Map<Quantizer, Param[]> qparams = new LinkedHashMap<>();
    /** Each rounded layer's rounded weight, by layer name. */
    final Map<String, Value> soft = new LinkedHashMap<>();

    /**
     * The unit input's quantizer when it is not trained ({@code null} otherwise): then no graph node applies it;
     * each step quantizes the drawn samples while copying them into the graph's input (see
     * {@link CpuTrainingSession}), which costs no extra pass over the batch.
     */
    float[] inputScale;

    float[] inputZero;
    float inputQmin;
    float inputQmax;

    UnitGraph(TrainingProblem problem, TrainingSettings settings, Parallel par) {
        this.problem = problem;
        this.settings = settings;
        QuantizedModel qm = problem.model();
        Model m = qm.model();
        if (m.inputs().size() != 1 || m.outputs().size() != 1) {
            throw new IllegalArgumentException("a training problem's model needs one input and one output, '" + m.name()
                    + "' has " + m.inputs().keySet() + " and " + m.outputs());
        }
        int batchSize = Math.min(settings.batchSize(), problem.samples());
        this.graph = new Graph(Math.max(batchSize, Math.min(problem.samples(), 256)), par);
        String in = m.inputs().keySet().iterator().next();
        String out = m.outputs().get(0);
        this.inSize = m.shape(in).size();
        this.outSize = m.shape(out).size();
        boolean ce = problem.objective() == TrainingProblem.Objective.CROSS_ENTROPY;
        boolean kl = problem.objective() == TrainingProblem.Objective.KL_DIVERGENCE;
        if (problem.inputs().length != problem.samples() * inSize
                || !ce && problem.targets().length != problem.samples() * outSize) {
            throw new IllegalArgumentException("training data of '" + m.name() + "': expected " + problem.samples()
                    + " samples of " + inSize + " inputs and " + outSize + " targets, got " + problem.inputs().length
                    + " and " + problem.targets().length + " values");
        }
        this.input = graph.input(in, m.shape(in).dims());
        raw.put(in, input);
        values.put(in, inputActivation(qm, in));
        this.target = ce ? null : graph.input("target", m.shape(out).dims());
        this.fisher = problem.fisherWeights() == null
                ? null
                : graph.input("fisher", m.shape(out).dims());
        Value fusedLoss = null;
        Op last = m.ops().get(m.ops().size() - 1);
        for (Op op : m.ops()) {
            if (!ce && !kl && fisher == null && op == last && op.output().equals(out) && op instanceof Op.Conv2D c) {
                // A unit ending in a convolution (every conv layer unit): its activation, MSE and gradient run
                // fused in one graph node, the hot path of layer-wise reconstruction. Its output has no value of
                // its own.
                fusedLoss = convMse(qm, c);
                break;
            }
            // The output tensor's quantizer belongs to the units that read it (Figure 1 puts quantizers on layer
            // inputs), so each activation quantizer is trained in exactly one unit.
            Value v = build(qm, op);
            raw.put(op.output(), v);
            values.put(op.output(), op.output().equals(out) ? v : activation(qm, op.output(), v));
        }
        if (ce) {
            this.loss = graph.crossEntropy(values.get(out));
            this.labels = graph.labels(loss);
        } else {
            this.loss = fusedLoss != null
                    ? fusedLoss
                    : kl
                            ? graph.klDivergence(values.get(out), target)
                            : fisher != null
                                    ? graph.weightedMse(values.get(out), target, fisher)
                                    : graph.mse(values.get(out), target);
            this.labels = null;
        }
        graph.minimize(loss, 1f);
    }

    boolean trains(Variable v) {
        return problem.variables().contains(v);
    }

    /**
     * Whether the scale of {@code tensor}'s activation quantizer trains with the second Adam: it is listed in the
     * settings, activations are quantized, and the quantizer parameters are not already variables (QPARAMS).
     */
    private boolean activationScaleTrains(String tensor) {
        return problem.quantizeActivations()
                && !trains(Variable.QPARAMS)
                && settings.activationScales().contains(tensor);
    }

    /**
     * The unit input as the graph sees it: through a fake-quant node when its quantizer trains (QPARAMS), else
     * the raw input, the frozen quantizer being applied as samples are loaded (fake quantization is element-wise,
     * so quantizing while loading gives the same values as a node).
     */
    private Value inputActivation(QuantizedModel qm, String tensor) {
        if (problem.fpInputs() != null) {
            fpInput = graph.input(tensor + "/fp", input.shape());
            return graph.randomSelect(
                    activation(qm, tensor, input),
                    fpInput,
                    problem.quantizedInputProbability(),
                    settings.seed() ^ 0x5DEECE66DL);
        }
        Quantizer q = qm.activationQuantizers().get(tensor);
        if (q == null || !problem.quantizeActivations() || trains(Variable.QPARAMS) || activationScaleTrains(tensor)) {
            return activation(qm, tensor, input);
        }
        QuantParams p = q.params();
        if (p.channels() != 1) {
            return activation(qm, tensor, input);
        }
        boolean signed = q.spec().symmetry() == Symmetry.SYMMETRIC;
        inputScale = p.scale().clone();
        inputZero = signed ? null : p.zeroPoint().clone();
        inputQmin = q.spec().grid().n();
        inputQmax = q.spec().grid().p();
        return input;
    }

    private Value activation(QuantizedModel qm, String tensor, Value x) {
        Quantizer q = qm.activationQuantizers().get(tensor);
        if (q == null || !problem.quantizeActivations()) {
            return x;
        }
        Param[] sz = quantizerParams(q, "act/" + tensor);
        if (activationScaleTrains(tensor) && !activationScales.containsKey(q)) {
            activationScales.put(q, sz[0].trainable(true));
        }
        return graph.fakeQuant(
                x,
                graph.use(sz[0]),
                sz[1] == null ? null : graph.use(sz[1]),
                q.spec().grid(),
                -1,
                lsqScale());
    }

    /**
     * Whether trained steps take LSQ's gradient scale: yes for the problem's step-size gradient
     * {@link TrainingOps#LSQ_STEP}, no for {@link TrainingOps#UNSCALED_STEP}.
     */
    private boolean lsqScale() {
        return problem.stepGradient().equals(TrainingOps.LSQ_STEP);
    }

    /** Scale and zero-point as graph parameters (zero is null for symmetric quantizers), trainable for QPARAMS. */
    private Param[] quantizerParams(Quantizer q, String name) {
        return qparams.computeIfAbsent(q, k -> {
            QuantParams p = q.params();
            boolean trains = trains(Variable.QPARAMS) && !problem.model().fixed(q);
            Param s = graph.param(name + "/scale", p.scale(), p.channels()).trainable(trains);
            Param z = q.spec().symmetry() == Symmetry.SYMMETRIC
                    ? null
                    : graph.param(name + "/zero", p.zeroPoint(), p.channels()).trainable(trains);
            return new Param[] {s, z};
        });
    }

    private Value constant(Model m, String name, boolean trainable) {
        if (name == null) {
            return null;
        }
        Tensor t = m.constant(name);
        Param p = constants.computeIfAbsent(
                name, n -> graph.param(n, t.data().clone(), t.shape().dims()));
        p.trainable(trainable);
        return graph.use(p);
    }

    private Value weight(QuantizedModel qm, Op.Layer layer) {
        Model m = qm.model();
        Value w = constant(m, layer.weight(), trains(Variable.WEIGHTS));
        Quantizer q = qm.weightQuantizers().get(layer.name());
        if (q == null) {
            return w;
        }
        int[] dims = m.constant(layer.weight()).shape().dims();
        boolean perChannel = q.spec().granularity() == Granularity.PER_CHANNEL;
        int axis = perChannel ? q.spec().channelAxis() : -1;
        boolean signed = q.spec().symmetry() == Symmetry.SYMMETRIC;
        Param[] sz = quantizerParams(q, "weight/" + layer.name());
        if (!trains(Variable.ROUNDING)) {
            return graph.fakeQuant(
                    w,
                    graph.use(sz[0]),
                    sz[1] == null ? null : graph.use(sz[1]),
                    q.spec().grid(),
                    axis,
                    lsqScale());
        }
        // AdaRound works per channel; a per-tensor quantizer is the per-channel one with every scale equal.
        int a = perChannel ? axis : layer.weightChannelAxis();
        int channels = dims[a];
        Param scale = sz[0];
        Param zero = sz[1];
        if (!perChannel) {
            scale = graph.param(
                            "weight/" + layer.name() + "/scale-per-channel",
                            fill(channels, q.params().scale(0)),
                            channels)
                    .trainable(false);
            zero = zero == null
                    ? null
                    : graph.param(
                                    "weight/" + layer.name() + "/zero-per-channel",
                                    fill(channels, q.params().zeroPoint(0)),
                                    channels)
                            .trainable(false);
        }
        float[] wData = constants.get(layer.weight()).data();
        float[] v = new float[wData.length];
        int[] oci = outerChannelsInner(dims, a);
        boolean straightThrough = problem.rounding().equals(TrainingOps.STRAIGHT_THROUGH_SIGN);
        AdaRound.initReference(wData, oci[0], oci[1], oci[2], scale.data(), v);
        if (straightThrough) {
            // V = frac(W/s) - 1/2: the sign starts at rounding to nearest.
            for (int i = 0; i < v.length; i++) {
                v[i] = AdaRound.rectifiedSigmoid(v[i]) - 0.5f;
            }
        }
        Param vp = graph.param("v/" + layer.name(), v, dims);
        vs.put(layer.name(), vp);
        Value rounded = graph.adaRound(
                w,
                graph.use(vp),
                graph.use(scale),
                zero == null ? null : graph.use(zero),
                q.spec().grid(),
                a);
        if (straightThrough) {
            graph.straightThroughRounding(rounded);
        }
        soft.put(layer.name(), rounded);
        return rounded;
    }

    static float[] fill(int n, float v) {
        float[] a = new float[n];
        Arrays.fill(a, v);
        return a;
    }

    static int[] outerChannelsInner(int[] dims, int axis) {
        int outer = 1;
        int inner = 1;
        for (int i = 0; i < axis; i++) {
            outer *= dims[i];
        }
        for (int i = axis + 1; i < dims.length; i++) {
            inner *= dims[i];
        }
        return new int[] {outer, dims[axis], inner};
    }

    private Value build(QuantizedModel qm, Op op) {
        Model m = qm.model();
        boolean biasTrains = trains(Variable.WEIGHTS) || trains(Variable.BIASES);
        return switch (op) {
            case Op.Conv2D c -> {
                int[] pad = convPadding(m, c);
                yield act(
                        graph.conv2d(
                                values.get(c.input()),
                                weight(qm, c),
                                constant(m, c.bias(), biasTrains),
                                c.strideH(),
                                c.strideW(),
                                pad[0],
                                pad[1],
                                pad[2],
                                pad[3]),
                        c.activation());
            }
            case Op.DepthwiseConv2D d ->
                act(
                        graph.depthwiseConv2d(
                                values.get(d.input()),
                                weight(qm, d),
                                constant(m, d.bias(), biasTrains),
                                d.multiplier(),
                                d.strideH(),
                                d.strideW(),
                                padding(d.name(), d.padding())),
                        d.activation());
            case Op.Conv1D c ->
                act(
                        graph.conv1d(
                                values.get(c.input()),
                                weight(qm, c),
                                constant(m, c.bias(), biasTrains),
                                c.stride(),
                                padding(c.name(), c.padding())),
                        c.activation());
            case Op.FullyConnected f ->
                act(
                        graph.dense(values.get(f.input()), weight(qm, f), constant(m, f.bias(), biasTrains)),
                        f.activation());
            case Op.Add a -> act(graph.add(values.get(a.a()), values.get(a.b())), a.activation());
            case Op.Act a -> act(values.get(a.input()), a.activation());
            case Op.Pool p ->
                act(
                        graph.pool(
                                values.get(p.input()),
                                p.kind() == Op.PoolKind.MAX,
                                p.kh(),
                                p.kw(),
                                p.strideH(),
                                p.strideW(),
                                padding(p.name(), p.padding())),
                        p.activation());
            case Op.Mean mean -> graph.mean(values.get(mean.input()));
            case Op.Reshape r -> graph.reshape(values.get(r.input()), r.shape().dims());
            case Op.Pad p -> graph.pad(values.get(p.input()), p.before(), p.after());
            case Op.Softmax s -> graph.softmax(values.get(s.input()));
            case Op.BatchNorm bn ->
                act(
                        graph.batchNorm(
                                values.get(bn.input()),
                                constant(m, bn.gamma(), trains(Variable.WEIGHTS)),
                                constant(m, bn.beta(), trains(Variable.WEIGHTS)),
                                constant(m, bn.mean(), false),
                                constant(m, bn.variance(), false),
                                bn.epsilon(),
                                CpuTrainingSession.BATCH_NORM_MOMENTUM),
                        bn.activation());
        };
    }

    /** The fused {@code mse(act(conv2d(...)), target)} of a unit's last convolution. */
    private Value convMse(QuantizedModel qm, Op.Conv2D c) {
        Model m = qm.model();
        boolean biasTrains = trains(Variable.WEIGHTS) || trains(Variable.BIASES);
        int[] pad = convPadding(m, c);
        boolean clamp = c.activation() != Activation.NONE;
        float cap = c.activation() == Activation.RELU6 ? 6f : Float.POSITIVE_INFINITY;
        return graph.conv2dMse(
                values.get(c.input()),
                weight(qm, c),
                constant(m, c.bias(), biasTrains),
                c.strideH(),
                c.strideW(),
                pad[0],
                pad[1],
                pad[2],
                pad[3],
                clamp,
                cap,
                target);
    }

    /** Padding of a convolution as {top, bottom, left, right}. */
    private static int[] convPadding(Model m, Op.Conv2D c) {
        var in = m.shape(c.input());
        var w = m.constant(c.weight()).shape();
        Padding p = c.padding();
        int top = p.before(in.dim(0), w.dim(1), c.strideH(), true);
        int left = p.before(in.dim(1), w.dim(2), c.strideW(), false);
        int bottom = after(p, in.dim(0), w.dim(1), c.strideH(), true, top);
        int right = after(p, in.dim(1), w.dim(2), c.strideW(), false, left);
        return new int[] {top, bottom, left, right};
    }

    /** Padding after the last element: whatever the output size needs beyond {@code before}, never negative. */
    static int after(Padding p, int in, int k, int stride, boolean vertical, int before) {
        int out = p.outputSize(in, k, stride, vertical);
        return Math.max((out - 1) * stride + k - in - before, 0);
    }

    private static Graph.Padding padding(String layer, Padding p) {
        return switch (p.kind()) {
            case SAME -> Graph.Padding.SAME;
            case VALID -> Graph.Padding.VALID;
            case EXPLICIT ->
                throw new UnsupportedOperationException("layer '" + layer
                        + "': the cpu training graph supports explicit padding on conv2d only (found " + p + ")");
        };
    }

    private Value act(Value x, Activation a) {
        return switch (a) {
            case NONE -> x;
            case RELU -> graph.relu(x);
            case RELU6 -> graph.relu6(x);
        };
    }

    /**
     * A rounded layer's weight grid in AdaRound's {@code [outer, channels, inner]} view: per-channel scales and zero
     * points (null when symmetric; a per-tensor quantizer's repeated per channel) and the integer range.
     */
    record RoundingGrid(int[] oci, float[] scale, float[] zero, float qmin, float qmax) {}

    RoundingGrid roundingGrid(Op.Layer l) {
        QuantizedModel qm = problem.model();
        Quantizer q = qm.weightQuantizers().get(l.name());
        boolean perChannel = q.spec().granularity() == Granularity.PER_CHANNEL;
        int a = perChannel ? q.spec().channelAxis() : l.weightChannelAxis();
        int[] oci = outerChannelsInner(qm.model().constant(l.weight()).shape().dims(), a);
        float[] scale =
                perChannel ? q.params().scale() : fill(oci[1], q.params().scale(0));
        float[] zero = q.spec().symmetry() == Symmetry.SYMMETRIC
                ? null
                : perChannel ? q.params().zeroPoint() : fill(oci[1], q.params().zeroPoint(0));
        var g = q.spec().grid();
        return new RoundingGrid(oci, scale, zero, g.n(), g.p());
    }
}
