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
import io.tinyptq.api.spi.TrainingProblem;
import io.tinyptq.api.spi.TrainingSession;
import io.tinyptq.api.spi.TrainingSettings;
import io.tinyptq.api.spi.Variable;
import io.tinyptq.backend.cpu.engine.Adam;
import io.tinyptq.backend.cpu.engine.Batches;
import io.tinyptq.backend.cpu.engine.Graph;
import io.tinyptq.backend.cpu.engine.Param;
import io.tinyptq.backend.cpu.engine.Value;
import io.tinyptq.backend.cpu.kernels.AdaRound;
import io.tinyptq.backend.cpu.kernels.ConvRoundingSearch;
import io.tinyptq.backend.cpu.kernels.FakeQuant;
import io.tinyptq.backend.cpu.kernels.Parallel;
import io.tinyptq.backend.cpu.kernels.RoundingSearch;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A {@link TrainingProblem} compiled onto the autodiff {@link Graph}: the IR's ops become graph nodes, each
 * layer's weight passes through its quantizer (fake quantization with LSQ gradients, or AdaRound's soft rounding
 * when the variable is the rounding), each quantized activation tensor through its quantizer when the problem
 * keeps activations quantized, and the output meets the targets in an MSE. Inputs and targets stay in this
 * session's arrays; each step gathers a seeded mini-batch into the graph's preallocated input buffers, so the
 * loop allocates nothing.
 */
final class CpuTrainingSession implements TrainingSession {
    /**
     * Running-statistics momentum of batch normalization while weights train (Keras' default): each step moves
     * the running mean and variance 1 % toward the batch's.
     */
    static final float BATCH_NORM_MOMENTUM = 0.99f;

    /** Floor of a trained activation scale. */
    static final float MIN_ACTIVATION_SCALE = 1e-6f;

    /**
     * Floor of a scale trained as a QPARAMS variable, as a fraction of its initial value. Adam moves every
     * parameter by about the learning rate per step whatever its size, so a small per-channel weight scale (say
     * 2e-4) would cross zero within a few steps at lr 1e-3; the floor keeps it positive (a scale shrunk a
     * hundredfold already zeroes almost all of its channel's weights).
     */
    static final float MIN_SCALE_FRACTION = 1e-2f;

    private final TrainingProblem problem;
    private final Graph graph;
    private final Value input;
    /** QDrop: the full-precision inputs, mixed element-wise with the quantized ones on training steps (or null). */
    private Value fpInput;
    private final Value target;
    /** Per-element weights of BRECQ's Fisher-weighted MSE, gathered per batch like the targets (or null). */
    private final Value fisher;
    /** Each tensor's value as its op produced it (before activation quantizers), for {@link #gradients}. */
    private final Map<String, Value> raw = new HashMap<>();
    private final Value loss;
    private final int[] labels;
    private final Adam adam;
    /** The second Adam, over the activation scales that train alongside the variables (null when none does). */
    private final Adam activationAdam;
    /** The biases' own Adam where {@link TrainingSettings#biasLearningRate()} is set and biases train (else null). */
    private final Adam biasAdam;
    private final TrainingSettings settings;
    /** Activation scales trained by {@link #activationAdam}, by quantizer (zero points stay fixed). */
    private final Map<Quantizer, Param> activationScales = new LinkedHashMap<>();
    private final Batches batches;
    private final int batchSize;
    private final int inSize;
    private final int outSize;
    private final int outChannels;
    private int[] order;
    private int cursor;

    /** Trainable or written-back parameters by IR name: weight and bias constants, V per layer, quantizer params. */
    private final Map<String, Param> constants = new LinkedHashMap<>();
    private final Map<String, Param> vs = new LinkedHashMap<>();
    private final Map<Quantizer, Param[]> qparams = new LinkedHashMap<>();
    /** For QPARAMS: each trained scale's floor, {@link #MIN_SCALE_FRACTION} of its initial values. */
    private final Map<Param, float[]> scaleFloors = new LinkedHashMap<>();
    private final Map<String, Value> soft = new LinkedHashMap<>();
    /** The values of {@link #soft}, as an array the training loop walks without allocating an iterator. */
    private final Value[] rounded;
    /**
     * The unit's last layer when the loss is quadratic in its rounding ({@link #refineRounding}): fully connected,
     * no activation, its output the MSE's operand; else null. Its input and output values.
     */
    private Op.FullyConnected quadratic;
    private Value quadraticInput;
    private Value quadraticOutput;
    /**
     * The unit's last layer when it is rounded and its activated output meets the MSE but the loss is not quadratic:
     * a 2-D convolution (the fused {@link #convMse} path) or a fully-connected layer with an activation, refined by
     * exact evaluation ({@link ConvRoundingSearch}, a dense layer being a 1x1 convolution of a 1x1 input); else
     * null. Its input value.
     */
    private Op.Layer activated;
    private Value activatedInput;

    private final Parallel par;
    private final boolean ownsThreads;

    /**
     * The unit input's quantizer when it is not trained ({@code null} otherwise): then no graph node applies it;
     * each step quantizes the drawn samples while copying them into the graph's input ({@link #loadInputs}), which
     * costs no extra pass over the batch.
     */
    private float[] inputScale;
    private float[] inputZero;
    private float inputQmin;
    private float inputQmax;

    CpuTrainingSession(TrainingProblem problem, TrainingSettings settings, Parallel par, boolean ownsThreads) {
        this.par = par;
        this.ownsThreads = ownsThreads;
        this.problem = problem;
        this.settings = settings;
        QuantizedModel qm = problem.model();
        Model m = qm.model();
        if (m.inputs().size() != 1 || m.outputs().size() != 1) {
            throw new IllegalArgumentException("a training problem's model needs one input and one output, '" + m.name()
                    + "' has " + m.inputs().keySet() + " and " + m.outputs());
        }
        this.batchSize = Math.min(settings.batchSize(), problem.samples());
        this.graph = new Graph(Math.max(batchSize, Math.min(problem.samples(), 256)), par);
        String in = m.inputs().keySet().iterator().next();
        String out = m.outputs().get(0);
        this.inSize = m.shape(in).size();
        this.outSize = m.shape(out).size();
        this.outChannels = m.shape(out).dim(-1);
        boolean ce = problem.objective() == TrainingProblem.Objective.CROSS_ENTROPY;
        boolean kl = problem.objective() == TrainingProblem.Objective.KL_DIVERGENCE;
        if (problem.inputs().length != problem.samples() * inSize
                || !ce && problem.targets().length != problem.samples() * outSize) {
            throw new IllegalArgumentException("training data of '" + m.name() + "': expected " + problem.samples()
                    + " samples of " + inSize + " inputs and " + outSize + " targets, got " + problem.inputs().length
                    + " and " + problem.targets().length + " values");
        }
        Map<String, Value> values = new HashMap<>();
        this.input = graph.input(in, m.shape(in).dims());
        raw.put(in, input);
        values.put(in, inputActivation(qm, in));
        this.target = ce ? null : graph.input("target", m.shape(out).dims());
        this.fisher = problem.fisherWeights() == null ? null : graph.input("fisher", m.shape(out).dims());
        Value fusedLoss = null;
        Op last = m.ops().get(m.ops().size() - 1);
        for (Op op : m.ops()) {
            if (!ce && !kl && fisher == null && op == last && op.output().equals(out) && op instanceof Op.Conv2D c) {
                // A unit ending in a convolution (every conv layer unit): its activation, MSE and gradient run
                // fused in one graph node, the hot path of layer-wise reconstruction.
                fusedLoss = convMse(qm, c, values);
                if (soft.containsKey(c.name())) {
                    activated = c;
                    activatedInput = values.get(c.input());
                }
                break;
            }
            // The output tensor's quantizer belongs to the units that read it (Figure 1 puts quantizers on layer
            // inputs), so each activation quantizer is trained in exactly one unit.
            Value v = build(qm, op, values);
            if (!ce && !kl && fisher == null && op == last && op.output().equals(out)
                    && op instanceof Op.FullyConnected f && f.activation() == Activation.NONE && soft.containsKey(f.name())) {
                quadratic = f;
                quadraticInput = values.get(f.input());
                quadraticOutput = v;
            } else if (!ce && !kl && fisher == null && op == last && op.output().equals(out)
                    && op instanceof Op.FullyConnected f && soft.containsKey(f.name())) {
                activated = f;
                activatedInput = values.get(f.input());
            }
            raw.put(op.output(), v);
            values.put(op.output(), op.output().equals(out) ? v : activation(qm, op.output(), v));
        }
        if (ce) {
            this.loss = graph.crossEntropy(values.get(out));
            this.labels = graph.labels(loss);
        } else {
            this.loss = fusedLoss != null ? fusedLoss : kl ? graph.klDivergence(values.get(out), target)
                    : fisher != null ? graph.weightedMse(values.get(out), target, fisher) : graph.mse(values.get(out), target);
            this.labels = null;
        }
        graph.minimize(loss, 1f);
        this.rounded = soft.values().toArray(new Value[0]);
        java.util.List<Param> trainable = new java.util.ArrayList<>(graph.trainableParams());
        trainable.removeAll(activationScales.values());
        java.util.List<Param> biases = new java.util.ArrayList<>();
        if (settings.biasLearningRate() > 0) {
            for (Op.Layer l : m.layers()) {
                Param b = l.bias() == null ? null : constants.get(l.bias());
                if (b != null && trainable.remove(b)) {
                    biases.add(b);
                }
            }
        }
        this.adam = new Adam(trainable, (float) settings.learningRate());
        this.biasAdam = biases.isEmpty() ? null : new Adam(biases, (float) settings.biasLearningRate());
        this.activationAdam = activationScales.isEmpty() ? null
                : new Adam(java.util.List.copyOf(activationScales.values()), (float) settings.activationLearningRate());
        this.batches = new Batches(problem.samples(), settings.seed());
        this.order = batches.nextEpoch();
        if (trains(Variable.QPARAMS)) {
            for (Param[] sz : qparams.values()) {
                float[] floor = sz[0].data().clone();
                for (int i = 0; i < floor.length; i++) {
                    floor[i] = Math.max(floor[i] * MIN_SCALE_FRACTION, MIN_ACTIVATION_SCALE);
                }
                scaleFloors.put(sz[0], floor);
            }
        }
    }

    private boolean trains(Variable v) {
        return problem.variables().contains(v);
    }

    /**
     * Whether the scale of {@code tensor}'s activation quantizer trains with the second Adam: it is listed in the
     * settings, activations are quantized, and the quantizer parameters are not already variables (QPARAMS).
     */
    private boolean activationScaleTrains(String tensor) {
        return problem.quantizeActivations() && !trains(Variable.QPARAMS)
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
            return graph.randomSelect(activation(qm, tensor, input), fpInput, problem.quantizedInputProbability(),
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
        return graph.fakeQuant(x, graph.use(sz[0]), sz[1] == null ? null : graph.use(sz[1]), q.spec().grid(),
                -1, true);
    }

    /** Scale and zero-point as graph parameters (zero is null for symmetric quantizers), trainable for QPARAMS. */
    private Param[] quantizerParams(Quantizer q, String name) {
        return qparams.computeIfAbsent(q, k -> {
            QuantParams p = q.params();
            boolean trains = trains(Variable.QPARAMS) && !problem.model().fixed(q);
            Param s = graph.param(name + "/scale", p.scale(), p.channels()).trainable(trains);
            Param z = q.spec().symmetry() == Symmetry.SYMMETRIC ? null
                    : graph.param(name + "/zero", p.zeroPoint(), p.channels()).trainable(trains);
            return new Param[] {s, z};
        });
    }

    private Value constant(Model m, String name, boolean trainable) {
        if (name == null) {
            return null;
        }
        Tensor t = m.constant(name);
        Param p = constants.computeIfAbsent(name, n -> graph.param(n, t.data().clone(), t.shape().dims()));
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
            return graph.fakeQuant(w, graph.use(sz[0]), sz[1] == null ? null : graph.use(sz[1]), q.spec().grid(),
                    axis, true);
        }
        // AdaRound works per channel; a per-tensor quantizer is the per-channel one with every scale equal.
        int a = perChannel ? axis : layer.weightChannelAxis();
        int channels = dims[a];
        Param scale = sz[0];
        Param zero = sz[1];
        if (!perChannel) {
            scale = graph.param("weight/" + layer.name() + "/scale-per-channel", fill(channels, q.params().scale(0)),
                    channels).trainable(false);
            zero = zero == null ? null : graph.param("weight/" + layer.name() + "/zero-per-channel",
                    fill(channels, q.params().zeroPoint(0)), channels).trainable(false);
        }
        float[] wData = constants.get(layer.weight()).data();
        float[] v = new float[wData.length];
        int[] oci = outerChannelsInner(dims, a);
        AdaRound.initReference(wData, oci[0], oci[1], oci[2], scale.data(), v);
        Param vp = graph.param("v/" + layer.name(), v, dims);
        vs.put(layer.name(), vp);
        Value rounded = graph.adaRound(w, graph.use(vp), graph.use(scale), zero == null ? null : graph.use(zero),
                q.spec().grid(), a);
        soft.put(layer.name(), rounded);
        return rounded;
    }

    static float[] fill(int n, float v) {
        float[] a = new float[n];
        java.util.Arrays.fill(a, v);
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

    private Value build(QuantizedModel qm, Op op, Map<String, Value> values) {
        Model m = qm.model();
        boolean biasTrains = trains(Variable.WEIGHTS) || trains(Variable.BIASES);
        return switch (op) {
            case Op.Conv2D c -> {
                int[] pad = convPadding(m, c);
                yield act(graph.conv2d(values.get(c.input()), weight(qm, c), constant(m, c.bias(), biasTrains),
                        c.strideH(), c.strideW(), pad[0], pad[1], pad[2], pad[3]), c.activation());
            }
            case Op.DepthwiseConv2D d -> act(graph.depthwiseConv2d(values.get(d.input()), weight(qm, d),
                    constant(m, d.bias(), biasTrains), d.multiplier(), d.strideH(), d.strideW(), padding(d.name(),
                            d.padding())), d.activation());
            case Op.Conv1D c -> act(graph.conv1d(values.get(c.input()), weight(qm, c), constant(m, c.bias(), biasTrains),
                    c.stride(), padding(c.name(), c.padding())), c.activation());
            case Op.FullyConnected f -> act(graph.dense(values.get(f.input()), weight(qm, f),
                    constant(m, f.bias(), biasTrains)), f.activation());
            case Op.Add a -> act(graph.add(values.get(a.a()), values.get(a.b())), a.activation());
            case Op.Act a -> act(values.get(a.input()), a.activation());
            case Op.Pool p -> act(graph.pool(values.get(p.input()), p.kind() == Op.PoolKind.MAX, p.kh(), p.kw(),
                    p.strideH(), p.strideW(), padding(p.name(), p.padding())), p.activation());
            case Op.Mean mean -> graph.mean(values.get(mean.input()));
            case Op.Reshape r -> graph.reshape(values.get(r.input()), r.shape().dims());
            case Op.Pad p -> graph.pad(values.get(p.input()), p.before(), p.after());
            case Op.Softmax s -> graph.softmax(values.get(s.input()));
            case Op.BatchNorm bn -> act(graph.batchNorm(values.get(bn.input()), constant(m, bn.gamma(),
                    trains(Variable.WEIGHTS)), constant(m, bn.beta(), trains(Variable.WEIGHTS)),
                    constant(m, bn.mean(), false), constant(m, bn.variance(), false), bn.epsilon(),
                    BATCH_NORM_MOMENTUM), bn.activation());
        };
    }

    /** The fused {@code mse(act(conv2d(...)), target)} of a unit's last convolution. */
    private Value convMse(QuantizedModel qm, Op.Conv2D c, Map<String, Value> values) {
        Model m = qm.model();
        boolean biasTrains = trains(Variable.WEIGHTS) || trains(Variable.BIASES);
        int[] pad = convPadding(m, c);
        boolean clamp = c.activation() != Activation.NONE;
        float cap = c.activation() == Activation.RELU6 ? 6f : Float.POSITIVE_INFINITY;
        return graph.conv2dMse(values.get(c.input()), weight(qm, c), constant(m, c.bias(), biasTrains), c.strideH(),
                c.strideW(), pad[0], pad[1], pad[2], pad[3], clamp, cap, target);
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
            case EXPLICIT -> throw new UnsupportedOperationException("layer '" + layer
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

    @Override
    public double run(int steps, Rounding rounding) {
        // Training steps normalize with batch statistics when the weights train (BatchNorm's training mode).
        graph.training(trains(Variable.WEIGHTS));
        graph.randomSelection(true);
        double sum = 0;
        for (int step = 0; step < steps; step++) {
            if (cursor + batchSize > order.length) {
                order = batches.nextEpoch();
                cursor = 0;
            }
            loadInputs(order, cursor, batchSize);
            fillTargets(order, cursor, batchSize);
            cursor += batchSize;
            graph.zeroGrad();
            graph.forward(batchSize);
            sum += loss.data()[0];
            // β decays linearly over this call's steps (see Rounding). The session's loss is a mean over all
            // output elements, while BRECQ's reconstruction loss sums over the channel axis (mean over batch and
            // positions), i.e. C times larger; dividing λ by C keeps the cited λ = 0.01 at its published
            // strength relative to the reconstruction term. The graph adds the regularizer's gradient in the
            // AdaRound node's backward, in the same pass over V as the reconstruction gradient.
            double t = steps == 1 ? 0 : (double) step / (steps - 1);
            float beta = (float) (rounding.betaStart() + (rounding.betaEnd() - rounding.betaStart()) * t);
            float weight = rounding.lambda() > 0 ? (float) (rounding.lambda() / outChannels) : 0f;
            for (Value r : rounded) {
                graph.adaRoundRegularizer(r, beta, weight);
            }
            graph.backward();
            adam.step();
            if (biasAdam != null) {
                biasAdam.step();
            }
            scaleFloors.forEach((scale, floor) -> {
                float[] d = scale.data();
                for (int i = 0; i < d.length; i++) {
                    d[i] = Math.max(d[i], floor[i]);
                }
            });
            if (activationAdam != null) {
                activationAdam.step();
                // A step size must stay positive; Adam moves it by about the learning rate per step whatever its size.
                for (Param scale : activationScales.values()) {
                    float[] d = scale.data();
                    for (int i = 0; i < d.length; i++) {
                        d[i] = Math.max(d[i], MIN_ACTIVATION_SCALE);
                    }
                }
            }
        }
        return sum / steps;
    }

    @Override
    public void learningRate(double lr) {
        adam.learningRate((float) lr);
    }

    @Override
    public void activationLearningRate(double lr) {
        if (activationAdam != null) {
            activationAdam.learningRate((float) lr);
        }
    }

    @Override
    public double loss() {
        double[] sum = {0};
        forwardAllSamples((start, n) -> sum[0] += (double) loss.data()[0] * n);
        return sum[0] / problem.samples();
    }

    @Override
    public double hardLoss() {
        return withHardRounding(this::loss);
    }

    /** {@code work} with every rounding variable hard, as {@link #commit} keeps it; the session stays soft after. */
    private <T> T withHardRounding(java.util.function.Supplier<T> work) {
        for (Value r : rounded) {
            graph.hardRounding(r, true);
        }
        try {
            return work.get();
        } finally {
            for (Value r : rounded) {
                graph.hardRounding(r, false);
            }
        }
    }

    @Override
    public long fixRounding(double fraction) {
        if (!trains(Variable.ROUNDING)) {
            throw new UnsupportedOperationException("the problem does not train rounding variables");
        }
        long fixed = 0;
        for (Param v : vs.values()) {
            fixed += AdaRound.fixMostDecided(v.data(), fraction);
        }
        return fixed;
    }

    @Override
    public java.util.OptionalInt refineRounding(int maxSweeps, boolean refitScales) {
        if (quadratic != null && !refitScales) {
            return java.util.OptionalInt.of(withHardRounding(() -> refineQuadratic(maxSweeps)));
        }
        // The exact evaluation covers a classifier too; its Gram matrix cannot follow a changing step.
        Op.Layer layer = activated != null ? activated : quadratic;
        Value in = activated != null ? activatedInput : quadraticInput;
        if (layer != null) {
            return java.util.OptionalInt.of(withHardRounding(() -> refineActivated(layer, in, maxSweeps, refitScales)));
        }
        return java.util.OptionalInt.empty();
    }

    /**
     * Every layer's rounding hard, as commit keeps it: the last layer's input is then fixed, and its loss
     * {@code sum_n |W x_n + b - y_n|^2} separates into one quadratic per output neuron (see {@link RoundingSearch}).
     */
    private int refineQuadratic(int maxSweeps) {
        int d = quadraticInput.sampleSize();
        int outputs = quadraticOutput.sampleSize();
        double[] h = new double[d * d];
        double[] g = new double[outputs * d];
        forwardAllSamples((start, n) -> {
            float[] x = quadraticInput.data();
            float[] yHat = quadraticOutput.data();
            float[] y = target.data();
            for (int s = 0; s < n; s++) {
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
        });
        for (int i = 0; i < d; i++) {
            for (int j = 0; j < i; j++) {
                h[i * d + j] = h[j * d + i];
            }
        }
        RowRounding rows = new RowRounding(quadratic, d);
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

    /**
     * Every layer's rounding hard: the last layer's input is fixed, and each output channel's loss depends on that
     * channel's weights only; {@link ConvRoundingSearch} refines the channels one by one, the threads sharing them.
     * The input of all samples is held once, padded and split by stride phase.
     */
    private int refineActivated(Op.Layer layer, Value layerInput, int maxSweeps, boolean refitScales) {
        Model m = problem.model().model();
        int[] wd = m.constant(layer.weight()).shape().dims();
        int samples = problem.samples();
        Activation activation;
        ConvRoundingSearch.Geometry g;
        if (layer instanceof Op.Conv2D c) {
            var in = m.shape(c.input());
            var out = m.shape(c.output());
            int[] pad = convPadding(m, c);
            g = new ConvRoundingSearch.Geometry(samples, in.dim(0), in.dim(1), in.dim(2), wd[1], wd[2], c.strideH(),
                    c.strideW(), pad[0], pad[2], out.dim(0), out.dim(1));
            activation = c.activation();
        } else {
            Op.FullyConnected f = (Op.FullyConnected) layer;
            g = new ConvRoundingSearch.Geometry(samples, 1, 1, wd[1], 1, 1, 1, 1, 0, 0, 1, 1);
            activation = f.activation();
        }
        if ((long) samples * g.splitSize() > Integer.MAX_VALUE - 64
                || (long) g.channelSize() * wd[0] > Integer.MAX_VALUE - 64) {
            throw new UnsupportedOperationException("layer '" + layer.name() + "': " + samples
                    + " samples are too many for the rounding search's arrays");
        }
        float[] x = new float[(int) (samples * g.splitSize())];
        if (layerInput == input) {
            // The unit's own input, quantized as samples are loaded for training (the graph may keep it only in
            // the convolution's padded buffer).
            float[] one = new float[inSize];
            for (int n = 0; n < samples; n++) {
                if (inputScale == null) {
                    System.arraycopy(problem.inputs(), n * inSize, one, 0, inSize);
                } else {
                    FakeQuant.forward(problem.inputs(), n * inSize, 1, 1, inSize, inputScale, inputZero, inputQmin,
                            inputQmax, one, 0, Parallel.serial());
                }
                ConvRoundingSearch.split(one, 1, n, g, x);
            }
        } else {
            forwardAllSamples((start, n) -> ConvRoundingSearch.split(layerInput.data(), n, start, g, x));
        }
        int channels = wd[0];
        int d = g.fanIn();
        RowRounding rows = new RowRounding(layer, d);
        float[] bias = layer.bias() == null ? null : constants.get(layer.bias()).data();
        float[] targets = problem.targets();
        float lo = activation == Activation.NONE ? Float.NEGATIVE_INFINITY : 0f;
        float hi = activation == Activation.RELU6 ? 6f : Float.POSITIVE_INFINITY;
        int[] flips = new int[channels];
        Quantizer quantizer = problem.model().weightQuantizers().get(layer.name());
        // A step size of its own per output channel, symmetric: the refit changes one channel's scale alone.
        boolean refit = refitScales && quantizer.spec().granularity() == Granularity.PER_CHANNEL
                && quantizer.spec().symmetry() == Symmetry.SYMMETRIC;
        par.forRange(channels, (worker, o0, o1) -> {
            float[] z = new float[g.channelSize()];
            float[] e = new float[g.channelSize()];
            float[] t = new float[g.channelSize()];
            float[] down = new float[d];
            float[] up = new float[d];
            float[] w = new float[d];
            boolean[] roundUp = new boolean[d];
            for (int o = o0; o < o1; o++) {
                float b = bias == null ? 0f : bias[o];
                for (int i = 0; i < t.length; i++) {
                    t[i] = targets[i * channels + o];
                }
                rows.read(o, down, up, roundUp);
                channelState(x, g, b, lo, hi, t, down, up, roundUp, w, z, e);
                flips[o] = ConvRoundingSearch.refine(x, g, z, e, lo, hi, down, up, roundUp, maxSweeps);
                for (int round = 0; refit && round < SCALE_REFITS; round++) {
                    // Refit the step for the kept codes, re-base the codes on the new step's floor, search again;
                    // keep it all only where the exactly recomputed loss falls.
                    double before = sumOfSquares(e);
                    double f = ConvRoundingSearch.refitScale(z, e, t.length, b, lo, hi, SCALE_REFIT_SPAN);
                    if (f == 1) {
                        break;
                    }
                    boolean[] kept = roundUp.clone();
                    float old = rows.scale[o];
                    rows.rebase(o, (float) (old * f), down, up, roundUp);
                    channelState(x, g, b, lo, hi, t, down, up, roundUp, w, z, e);
                    int more = ConvRoundingSearch.refine(x, g, z, e, lo, hi, down, up, roundUp, maxSweeps);
                    if (sumOfSquares(e) < before * (1 - 1e-6)) {
                        flips[o] += more;
                    } else {
                        // Only the rounding is written back from here, so the step and it are all to restore.
                        rows.scale[o] = old;
                        System.arraycopy(kept, 0, roundUp, 0, d);
                        break;
                    }
                }
                rows.write(o, roundUp);
            }
        });
        if (refit) {
            // The weight quantizer keeps the refit steps (commit and later units read them) and so does the graph's
            // rounding node (hardLoss).
            quantizer.setParams(new QuantParams(rows.scale.clone(), new float[channels]));
            System.arraycopy(rows.scale, 0, qparams.get(quantizer)[0].data(), 0, channels);
        }
        return java.util.Arrays.stream(flips).sum();
    }

    /** Steps of the scale refit in the rounding search; most gain comes from the first. */
    static final int SCALE_REFITS = 3;
    /** The relative range the scale refit searches: [0.75, 1.25] times the current step. */
    static final double SCALE_REFIT_SPAN = 0.25;

    /** The channel's hard weights from its rounding, and the pre-activations and residuals they give. */
    private static void channelState(float[] x, ConvRoundingSearch.Geometry g, float bias, float lo, float hi, float[] t,
                                     float[] down, float[] up, boolean[] roundUp, float[] w, float[] z, float[] e) {
        for (int j = 0; j < w.length; j++) {
            w[j] = roundUp[j] ? up[j] : down[j];
        }
        ConvRoundingSearch.preActivation(x, g, w, bias, z);
        for (int i = 0; i < z.length; i++) {
            e[i] = Math.min(Math.max(z[i], lo), hi) - t[i];
        }
    }

    private static double sumOfSquares(float[] e) {
        double s = 0;
        for (float v : e) {
            s += (double) v * v;
        }
        return s;
    }

    /**
     * The hard rounding of a layer whose weight is {@code [outputs, d]} row-major with its quantizer's channels on
     * the rows (a dense or OHWI convolution weight): per row, each weight's two grid values and which one V picks.
     */
    private final class RowRounding {
        private final float[] weight;
        private final float[] v;
        private final RoundingGrid grid;
        private final int d;
        /** Each channel's step, the quantizer's unless refit ({@link #rebase}). */
        final float[] scale;

        RowRounding(Op.Layer layer, int d) {
            this.weight = problem.model().model().constant(layer.weight()).data();
            this.v = vs.get(layer.name()).data();
            this.grid = roundingGrid(layer);
            this.d = d;
            this.scale = grid.scale().clone();
        }

        private int channel(int i) {
            int[] oci = grid.oci();
            return (i / oci[2]) % oci[1];
        }

        void read(int row, float[] down, float[] up, boolean[] roundUp) {
            for (int j = 0; j < d; j++) {
                int i = row * d + j;
                grid(i, down, up, j);
                roundUp[j] = v[i] >= 0f;
            }
        }

        /** Weight {@code i}'s two grid values under its channel's current step, into slot {@code j}. */
        private void grid(int i, float[] down, float[] up, int j) {
            int c = channel(i);
            float s = scale[c];
            float z = grid.zero() == null ? 0f : grid.zero()[c];
            float floor = (float) Math.floor(weight[i] / s) + z;
            down[j] = s * (Math.min(Math.max(floor, grid.qmin()), grid.qmax()) - z);
            up[j] = s * (Math.min(Math.max(floor + 1, grid.qmin()), grid.qmax()) - z);
        }

        /**
         * Moves symmetric row {@code row} (a channel of its own) to step {@code newScale}: each weight keeps its integer
         * code where the new step's floor or floor + 1 can express it, else takes the nearer of the two.
         */
        void rebase(int row, float newScale, float[] down, float[] up, boolean[] roundUp) {
            float old = scale[channel(row * d)];
            scale[channel(row * d)] = newScale;
            for (int j = 0; j < d; j++) {
                float code = Math.round((roundUp[j] ? up[j] : down[j]) / old);
                grid(row * d + j, down, up, j);
                roundUp[j] = Math.abs(up[j] / newScale - code) < Math.abs(down[j] / newScale - code);
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

    /** What to do with chunk {@code [start, start+n)} of the samples after its forward pass. */
    private interface Chunk {
        void done(int start, int n);
    }

    /** Runs every sample, in order and in chunks of the graph's maximum batch, through the evaluation-mode forward. */
    private void forwardAllSamples(Chunk then) {
        graph.training(false);
        graph.randomSelection(false);
        int max = graph.maxBatch();
        for (int start = 0; start < problem.samples(); start += max) {
            int n = Math.min(max, problem.samples() - start);
            int[] rows = identity(start, n);
            loadInputs(rows, start, n);
            fillTargets(rows, start, n);
            graph.forward(n);
            then.done(start, n);
        }
    }

    /**
     * Loads samples {@code rows[from..from+n)} as the graph's input batch, fake-quantizing them on the way when the
     * input quantizer is applied here rather than in the graph (straight into the first convolution's padded
     * buffer when it is the input's only reader, see {@link Graph#loadInput}).
     */
    private void loadInputs(int[] rows, int from, int n) {
        graph.loadInput(input, problem.inputs(), rows, from, n, inputScale, inputZero, inputQmin, inputQmax);
        if (fpInput != null) {
            graph.loadInput(fpInput, problem.fpInputs(), rows, from, n, null, null, 0, 0);
        }
    }

    private void fillTargets(int[] rows, int from, int n) {
        if (labels != null) {
            Batches.gather(problem.labels(), rows, from, n, labels);
        } else {
            Batches.gather(problem.targets(), outSize, rows, from, n, target.data());
        }
        if (fisher != null) {
            Batches.gather(problem.fisherWeights(), outSize, rows, from, n, fisher.data());
        }
    }

    @Override
    public float[] gradients(String tensor) {
        Value v = raw.get(tensor);
        if (v == null || !v.batched()) {
            throw new IllegalArgumentException("no activation tensor '" + tensor + "' in '" + problem.model().model().name()
                    + "'; it has " + raw.keySet());
        }
        // Gradients reach every tensor the input reaches; parameters' gradients are cleared afterwards.
        input.requireGrad();
        int size = v.sampleSize();
        float[] out = new float[problem.samples() * size];
        forwardAllSamples((start, n) -> {
            graph.backward();
            // The loss is the batch mean of the samples' objectives, so each sample's own gradient is n times its share.
            float[] g = v.grad();
            for (int i = 0; i < n * size; i++) {
                out[start * size + i] = g[i] * n;
            }
        });
        graph.zeroGrad();
        return out;
    }

    private static int[] identity(int start, int n) {
        int[] rows = new int[start + n];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = i;
        }
        return rows;
    }

    /**
     * A rounded layer's weight grid in AdaRound's {@code [outer, channels, inner]} view: per-channel scales and zero
     * points (null when symmetric; a per-tensor quantizer's repeated per channel) and the integer range.
     */
    private record RoundingGrid(int[] oci, float[] scale, float[] zero, float qmin, float qmax) {
    }

    private RoundingGrid roundingGrid(Op.Layer l) {
        QuantizedModel qm = problem.model();
        Quantizer q = qm.weightQuantizers().get(l.name());
        boolean perChannel = q.spec().granularity() == Granularity.PER_CHANNEL;
        int a = perChannel ? q.spec().channelAxis() : l.weightChannelAxis();
        int[] oci = outerChannelsInner(qm.model().constant(l.weight()).shape().dims(), a);
        float[] scale = perChannel ? q.params().scale() : fill(oci[1], q.params().scale(0));
        float[] zero = q.spec().symmetry() == Symmetry.SYMMETRIC ? null
                : perChannel ? q.params().zeroPoint() : fill(oci[1], q.params().zeroPoint(0));
        var g = q.spec().grid();
        return new RoundingGrid(oci, scale, zero, g.n(), g.p());
    }

    @Override
    public void commit() {
        QuantizedModel qm = problem.model();
        Model m = qm.model();
        Model.Builder b = m.toBuilder();
        if (trains(Variable.WEIGHTS) || trains(Variable.BIASES)) {
            for (Op.Layer l : m.layers()) {
                if (trains(Variable.WEIGHTS)) {
                    b.constant(l.weight(), new Tensor(m.constant(l.weight()).shape(), constants.get(l.weight()).data().clone()));
                }
                if (l.bias() != null) {
                    b.constant(l.bias(), new Tensor(m.constant(l.bias()).shape(), constants.get(l.bias()).data().clone()));
                }
            }
        }
        if (trains(Variable.WEIGHTS)) {
            for (Op op : m.ops()) {
                if (op instanceof Op.BatchNorm bn) {
                    for (String p : bn.parameters()) {
                        b.constant(p, new Tensor(m.constant(p).shape(), constants.get(p).data().clone()));
                    }
                }
            }
        }
        if (trains(Variable.QPARAMS)) {
            qparams.forEach((q, sz) -> q.setParams(new QuantParams(sz[0].data().clone(),
                    sz[1] == null ? new float[sz[0].size()] : sz[1].data().clone())));
        }
        activationScales.forEach((q, scale) -> q.setParams(new QuantParams(scale.data().clone(),
                q.params().zeroPoint().clone())));
        if (trains(Variable.ROUNDING)) {
            for (var e : vs.entrySet()) {
                Op.Layer l = (Op.Layer) m.op(e.getKey());
                Tensor w = m.constant(l.weight());
                Value rounded = soft.get(l.name());
                graph.hardRounding(rounded, true);
                // The hard-rounded weight lies on the quantizer's grid, so fake-quantizing it again is exact.
                float[] hard = new float[w.data().length];
                RoundingGrid g = roundingGrid(l);
                AdaRound.hardRoundReference(w.data(), e.getValue().data(), g.oci()[0], g.oci()[1], g.oci()[2],
                        g.scale(), g.zero(), g.qmin(), g.qmax(), hard);
                b.constant(l.weight(), new Tensor(w.shape(), hard));
            }
        }
        qm.setModel(b.build());
    }

    @Override
    public void close() {
        // Buffers belong to the graph and go with it; a thread team made for this session stops here.
        if (ownsThreads) {
            par.close();
        }
    }
}
