package io.tinyptq.backend.cpu.engine;

import io.tinyptq.api.quant.IntegerGrid;
import io.tinyptq.backend.cpu.kernels.ConvShape;
import io.tinyptq.backend.cpu.kernels.FakeQuant;
import io.tinyptq.backend.cpu.kernels.Parallel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A model graph built in code, run forward and backward on batches of up to {@link #maxBatch()} samples.
 *
 * <p>Every builder call appends a node (the graph is a tape in topological order) and allocates the node's
 * output and gradient buffers for the maximum batch, and the kernel workspaces it needs; {@link #forward} and
 * {@link #backward} then allocate nothing, so iterations reuse the same memory. Activations are NHWC
 * (per-sample shapes {@code [H,W,C]}, {@code [W,C]} or {@code [F]}); weights keep the kernels' layouts (see
 * {@link io.tinyptq.backend.cpu.kernels}).
 *
 * <p>Reverse mode: {@link #backward} zeroes the gradients of non-parameter values, seeds each loss term with its
 * weight and runs the nodes in reverse order; a node computes only the input gradients some trainable parameter
 * or gradient-requesting input depends on. Parameter gradients <em>accumulate</em> across backward calls until
 * {@link #zeroGrad}, as in PyTorch. Differentiable with respect to inputs ({@link Value#requireGrad}), weights,
 * biases, fake-quantization scales and zero points, and AdaRound's V.
 *
 * <p>Not thread-safe; one graph runs one batch at a time (the kernels themselves use the {@link Parallel} team).
 */
public final class Graph {
    /** Padding of a sliding window: TensorFlow SAME or VALID. */
    public enum Padding {
        SAME,
        VALID
    }

    private final int maxBatch;
    private final Parallel par;
    private final List<Node> nodes = new ArrayList<>();
    private final List<Value> values = new ArrayList<>();
    private final Map<String, Param> params = new LinkedHashMap<>();
    private final List<Value> losses = new ArrayList<>();
    private final List<Float> lossWeights = new ArrayList<>();
    private int batch = -1;

    public Graph(int maxBatch, Parallel par) {
        if (maxBatch < 1) {
            throw new IllegalArgumentException("maximum batch must be >= 1, got " + maxBatch);
        }
        this.maxBatch = maxBatch;
        this.par = par;
    }

    public int maxBatch() {
        return maxBatch;
    }

    public Parallel parallel() {
        return par;
    }

    // ------------------------------------------------------------------ leaves

    /** A batched input of the given per-sample shape; write samples into {@link Value#data()}. */
    public Value input(String name, int... sampleShape) {
        return add(new Value(name, sampleShape, true, maxBatch, null));
    }

    /** A parameter holding {@code data} (not copied) of the given shape, trainable by default. */
    public Param param(String name, float[] data, int... shape) {
        if (params.containsKey(name)) {
            throw new IllegalArgumentException("parameter '" + name + "' already exists");
        }
        Param p = new Param(name, shape, data);
        params.put(name, p);
        return p;
    }

    /** The graph value reading parameter {@code p} (created once per parameter). */
    public Value use(Param p) {
        for (Value v : values) {
            if (v.param == p) {
                return v;
            }
        }
        return add(new Value(p.name(), p.shape(), false, maxBatch, p));
    }

    /** All parameters, in creation order. */
    public List<Param> params() {
        return List.copyOf(params.values());
    }

    /** The trainable parameters, in creation order. */
    public List<Param> trainableParams() {
        return params.values().stream().filter(Param::trainable).toList();
    }

    // ------------------------------------------------------------------ layers

    /** 2-D convolution of {@code [H,W,Cin]} by weight {@code [Cout,kH,kW,Cin]}; {@code bias} may be null. */
    public Value conv2d(Value x, Value weight, Value bias, int strideH, int strideW, Padding padding) {
        requireRank(x, 3, "conv2d input");
        requireRank(weight, 4, "conv2d weight");
        int[] w = weight.shape;
        if (w[3] != x.dim(2)) {
            throw new IllegalArgumentException("conv2d weight " + weight + " does not match input " + x);
        }
        ConvShape s = geometry(x.dim(0), x.dim(1), x.dim(2), w[0], w[1], w[2], strideH, strideW, padding);
        return conv(x, weight, bias, s, new int[] {s.outH(), s.outW(), s.outC()});
    }

    /** 2-D convolution with explicit padding amounts. */
    public Value conv2d(
            Value x,
            Value weight,
            Value bias,
            int strideH,
            int strideW,
            int padTop,
            int padBottom,
            int padLeft,
            int padRight) {
        requireRank(x, 3, "conv2d input");
        requireRank(weight, 4, "conv2d weight");
        int[] w = weight.shape;
        ConvShape s = ConvShape.explicit(
                1, x.dim(0), x.dim(1), x.dim(2), w[0], w[1], w[2], strideH, strideW, padTop, padBottom, padLeft,
                padRight);
        return conv(x, weight, bias, s, new int[] {s.outH(), s.outW(), s.outC()});
    }

    /** 1-D convolution of {@code [W,Cin]} by weight {@code [Cout,k,Cin]}. */
    public Value conv1d(Value x, Value weight, Value bias, int stride, Padding padding) {
        requireRank(x, 2, "conv1d input");
        requireRank(weight, 3, "conv1d weight");
        int[] w = weight.shape;
        if (w[2] != x.dim(1)) {
            throw new IllegalArgumentException("conv1d weight " + weight + " does not match input " + x);
        }
        ConvShape s = geometry(1, x.dim(0), x.dim(1), w[0], 1, w[1], 1, stride, padding);
        return conv(x, weight, bias, s, new int[] {s.outW(), s.outC()});
    }

    private Value conv(Value x, Value weight, Value bias, ConvShape s, int[] outShape) {
        requireBias(bias, s.outC());
        return node(new Nodes.Conv(x, weight, bias, s, maxBatch, par), "conv", outShape, true);
    }

    /** Depthwise convolution of {@code [H,W,C]} by weight {@code [kH,kW,C*multiplier]}. */
    public Value depthwiseConv2d(
            Value x, Value weight, Value bias, int multiplier, int strideH, int strideW, Padding padding) {
        requireRank(x, 3, "depthwise input");
        requireRank(weight, 3, "depthwise weight");
        int[] w = weight.shape;
        if (w[2] != x.dim(2) * multiplier) {
            throw new IllegalArgumentException(
                    "depthwise weight " + weight + " does not match input " + x + " with multiplier " + multiplier);
        }
        ConvShape s = geometry(x.dim(0), x.dim(1), x.dim(2), w[2], w[0], w[1], strideH, strideW, padding);
        requireBias(bias, s.outC());
        return node(
                new Nodes.Depthwise(x, weight, bias, s, maxBatch, par),
                "depthwise",
                new int[] {s.outH(), s.outW(), s.outC()},
                true);
    }

    /** Fully connected layer: input read as a flat vector, weight {@code [out,in]}. */
    public Value dense(Value x, Value weight, Value bias) {
        requireRank(weight, 2, "dense weight");
        if (weight.shape[1] != x.sampleSize) {
            throw new IllegalArgumentException("dense weight " + weight + " does not match input " + x);
        }
        requireBias(bias, weight.shape[0]);
        return node(
                new Nodes.FullyConnected(x, weight, bias, maxBatch, par), "dense", new int[] {weight.shape[0]}, true);
    }

    public Value add(Value a, Value b) {
        if (!Arrays.equals(a.shape, b.shape) || a.batched != b.batched) {
            throw new IllegalArgumentException("add operands " + a + " and " + b + " differ in shape");
        }
        return node(new Nodes.Add(a, b, par), "add", a.shape, a.batched);
    }

    /**
     * Element-wise random choice between {@code a} (probability {@code probabilityA}) and {@code b}, redrawn on each
     * forward pass while {@link #randomSelection(boolean)} is on; {@code a} itself while it is off (the default).
     * QDrop's mix of quantized and full-precision inputs.
     */
    public Value randomSelect(Value a, Value b, double probabilityA, long seed) {
        if (!Arrays.equals(a.shape, b.shape) || a.batched != b.batched) {
            throw new IllegalArgumentException("random-select operands " + a + " and " + b + " differ in shape");
        }
        if (!(probabilityA >= 0 && probabilityA <= 1)) {
            throw new IllegalArgumentException("probability " + probabilityA + " outside [0, 1]");
        }
        return node(
                new Nodes.RandomSelect(a, b, (float) probabilityA, seed, a.data.length, par),
                "random_select",
                a.shape,
                a.batched);
    }

    /** Turns the random choice of every {@link #randomSelect} node on (training steps) or off (evaluation). */
    public void randomSelection(boolean on) {
        for (Node node : nodes) {
            if (node instanceof Nodes.RandomSelect r) {
                r.active = on;
            }
        }
    }

    public Value relu(Value x) {
        return node(new Nodes.Clamp(x, Float.POSITIVE_INFINITY, par), "relu", x.shape, x.batched);
    }

    public Value relu6(Value x) {
        return node(new Nodes.Clamp(x, 6f, par), "relu6", x.shape, x.batched);
    }

    /**
     * Batch normalization of the last axis with trainable {@code gamma}/{@code beta} and running statistics
     * {@code runningMean}/{@code runningVar} (parameters the caller keeps untrainable; training-mode forward
     * passes update them in place with {@code running = momentum running + (1 - momentum) batch}). Inference mode
     * until {@link #training(boolean)} turns batch statistics on.
     */
    public Value batchNorm(
            Value x, Value gamma, Value beta, Value runningMean, Value runningVar, float eps, float momentum) {
        int c = x.dim(-1);
        for (Value p : new Value[] {gamma, beta, runningMean, runningVar}) {
            if (p.batched || p.sampleSize != c) {
                throw new IllegalArgumentException("batch norm of " + x + ": " + p + " must have " + c + " elements");
            }
        }
        Nodes.BatchNormNode node =
                new Nodes.BatchNormNode(x, gamma, beta, runningMean, runningVar, eps, momentum, maxBatch);
        node.training = training;
        return node(node, "batch_norm", x.shape, true);
    }

    private boolean training;

    /**
     * Training mode: batch normalization uses each batch's statistics and updates its running statistics.
     * Off (the default), it uses the running statistics, as inference does.
     */
    public void training(boolean on) {
        training = on;
        for (Node n : nodes) {
            if (n instanceof Nodes.BatchNormNode bn) {
                bn.training = on;
            }
        }
    }

    /** Average (divides by in-bounds count) or max pooling of {@code [H,W,C]} or {@code [W,C]}. */
    public Value pool(Value x, boolean max, int kh, int kw, int strideH, int strideW, Padding padding) {
        boolean oneD = x.rank() == 2;
        if (!oneD) {
            requireRank(x, 3, "pool input");
        }
        ConvShape s = oneD
                ? geometry(1, x.dim(0), x.dim(1), x.dim(1), 1, kw, 1, strideW, padding)
                : geometry(x.dim(0), x.dim(1), x.dim(2), x.dim(2), kh, kw, strideH, strideW, padding);
        int[] shape = oneD ? new int[] {s.outW(), s.outC()} : new int[] {s.outH(), s.outW(), s.outC()};
        return node(new Nodes.Pool(x, s, max, par), max ? "max_pool" : "avg_pool", shape, true);
    }

    /** Mean over the spatial axes: {@code [H,W,C]} or {@code [W,C]} to {@code [C]}. */
    public Value mean(Value x) {
        if (x.rank() < 2) {
            throw new IllegalArgumentException("mean needs spatial axes, got " + x);
        }
        return node(new Nodes.Mean(x, par), "mean", new int[] {x.dim(-1)}, true);
    }

    /** A view with another per-sample shape of the same size (shares storage and gradient). */
    public Value reshape(Value x, int... shape) {
        Value v = new Value(x.name + "_reshaped", shape, x.batched, 0, null);
        if (v.sampleSize != x.sampleSize) {
            throw new IllegalArgumentException("cannot reshape " + x + " to " + Arrays.toString(shape));
        }
        v.data = x.data;
        v.grad = x.grad;
        v.alias = true;
        Node alias = new Node(x) {
            @Override
            void forward(int n) {}

            @Override
            void backward(int n) {}
        };
        alias.out = v;
        v.producer = alias;
        nodes.add(alias);
        return add(v);
    }

    /** Zero padding of {@code [H,W,C]} (or {@code [W,C]}) samples: {@code before[i]}/{@code after[i]} per axis. */
    public Value pad(Value x, int[] before, int[] after) {
        if (before.length != x.rank() || after.length != x.rank() || x.rank() < 2 || x.rank() > 3) {
            throw new IllegalArgumentException("pad of " + x + " needs one before/after amount per axis");
        }
        boolean oneD = x.rank() == 2;
        int h = oneD ? 1 : x.dim(0);
        int[] p = oneD
                ? new int[] {0, 0, before[0], after[0], before[1], after[1]}
                : new int[] {before[0], after[0], before[1], after[1], before[2], after[2]};
        int[] shape = x.shape();
        for (int i = 0; i < shape.length; i++) {
            shape[i] += before[i] + after[i];
        }
        return node(new Nodes.ZeroPad(x, h, x.dim(-2), x.dim(-1), p), "pad", shape, true);
    }

    /** Softmax over the last axis. */
    public Value softmax(Value x) {
        return node(new Nodes.Softmax(x), "softmax", x.shape, x.batched);
    }

    // ------------------------------------------------------------------ quantization

    /**
     * Fake quantization (Eq. 1) of an activation or weight with LSQ-trainable {@code scale} and (optional)
     * {@code zero} point: per tensor when {@code axis < 0} (scale of shape [1]), else per channel along
     * {@code axis} of the value's (per-sample) shape. {@code lsqGradScale} applies LSQ's {@code 1/sqrt(numel*p)}.
     */
    public Value fakeQuant(Value x, Value scale, Value zero, IntegerGrid grid, int axis, boolean lsqGradScale) {
        int channels = axis < 0 ? 1 : x.dim(axis);
        if (scale.sampleSize != channels || zero != null && zero.sampleSize != channels) {
            throw new IllegalArgumentException("fake-quant of " + x + " along axis " + axis + " needs " + channels
                    + " scales/zero points, got " + scale + (zero == null ? "" : ", " + zero));
        }
        return node(
                new QuantizationNodes.Quantize(x, scale, zero, grid, axis, lsqGradScale, par),
                "fake_quant",
                x.shape,
                x.batched);
    }

    /**
     * AdaRound's soft-rounded weight {@code s*(clamp(floor(W/s)+z+h(V), n, p) - z)}, per channel along
     * {@code axis} of the weight; differentiable with respect to {@code v}. See {@link #hardRounding}.
     */
    public Value adaRound(Value weight, Value v, Value scale, Value zero, IntegerGrid grid, int axis) {
        if (weight.batched || v.sampleSize != weight.sampleSize || scale.sampleSize != weight.dim(axis)) {
            throw new IllegalArgumentException("AdaRound of " + weight + " needs V of the same shape and "
                    + weight.dim(axis) + " scales, got " + v + ", " + scale);
        }
        return node(
                new QuantizationNodes.SoftRound(weight, v, scale, zero, grid, axis), "adaround", weight.shape, false);
    }

    /** Switches an {@link #adaRound} value between soft ({@code false}) and hard ({@code h = [V >= 0]}) rounding. */
    public void hardRounding(Value adaRounded, boolean hard) {
        if (!(adaRounded.producer instanceof QuantizationNodes.SoftRound sr)) {
            throw new IllegalArgumentException(adaRounded + " is not an AdaRound value");
        }
        sr.hard = hard;
    }

    /**
     * Makes an {@link #adaRound} value a straight-through sign: the hard rounding {@code h = [V >= 0]} forward, and
     * {@code dh/dV = 1} backward (so {@code dV += dy * s} inside the grid); its regularizer stays off.
     */
    public void straightThroughRounding(Value adaRounded) {
        if (!(adaRounded.producer instanceof QuantizationNodes.SoftRound sr)) {
            throw new IllegalArgumentException(adaRounded + " is not an AdaRound value");
        }
        sr.straightThrough = true;
    }

    /**
     * Makes {@link #backward} add {@code weight * d/dV sum(1 - |2h(V)-1|^beta)} into the gradient of the V of an
     * {@link #adaRound} value, fused with the reconstruction gradient (one pass over V, one sigmoid per weight);
     * {@code weight = 0} turns it off. Unlike {@link #roundingRegularizer}, the regularizer's value is not computed
     * and does not enter {@link #loss()}: this is for training loops that only need its gradient.
     */
    public void adaRoundRegularizer(Value adaRounded, float beta, float weight) {
        if (!(adaRounded.producer instanceof QuantizationNodes.SoftRound sr)) {
            throw new IllegalArgumentException(adaRounded + " is not an AdaRound value");
        }
        sr.regBeta = beta;
        sr.regWeight = weight;
    }

    /** AdaRound's rounding regularizer {@code sum(1 - |2h(V)-1|^beta)}, a scalar usable as a loss term. */
    public Value roundingRegularizer(Value v, float beta) {
        return node(new QuantizationNodes.RoundingRegularizer(v, beta), "rounding_regularizer", new int[] {1}, false);
    }

    /** Changes the exponent of a {@link #roundingRegularizer} (annealed during AdaRound). */
    public void regularizerBeta(Value regularizer, float beta) {
        if (!(regularizer.producer instanceof QuantizationNodes.RoundingRegularizer r)) {
            throw new IllegalArgumentException(regularizer + " is not a rounding regularizer");
        }
        r.beta = beta;
    }

    // ------------------------------------------------------------------ losses

    /** Mean cross-entropy of {@code [C]} logits; fill {@link #labels(Value)} before {@link #forward}. */
    public Value crossEntropy(Value logits) {
        return node(new LossNodes.CrossEntropy(logits, maxBatch), "cross_entropy", new int[] {1}, false);
    }

    /** The label buffer of a {@link #crossEntropy} loss (one label per sample of the batch). */
    public int[] labels(Value crossEntropy) {
        if (!(crossEntropy.producer instanceof LossNodes.CrossEntropy ce)) {
            throw new IllegalArgumentException(crossEntropy + " is not a cross-entropy loss");
        }
        return ce.labels;
    }

    /** Mean KL divergence of softmax({@code logits}) from softmax({@code targetLogits}) over the batch. */
    public Value klDivergence(Value logits, Value targetLogits) {
        if (logits.sampleSize != targetLogits.sampleSize || !logits.batched || !targetLogits.batched) {
            throw new IllegalArgumentException("KL operands " + logits + " and " + targetLogits + " differ in shape");
        }
        return node(new LossNodes.KlDivergence(logits, targetLogits, maxBatch), "kl", new int[] {1}, false);
    }

    /** Mean of {@code weight * (prediction - target)^2} over all elements; the three share one shape. */
    public Value weightedMse(Value prediction, Value target, Value weight) {
        if (prediction.sampleSize != target.sampleSize
                || prediction.sampleSize != weight.sampleSize
                || prediction.batched != target.batched
                || prediction.batched != weight.batched) {
            throw new IllegalArgumentException(
                    "weighted mse operands " + prediction + ", " + target + " and " + weight + " differ in shape");
        }
        return node(new LossNodes.WeightedMeanSquaredError(prediction, target, weight), "wmse", new int[] {1}, false);
    }

    /** Mean squared error between two values of one shape. */
    public Value mse(Value prediction, Value target) {
        if (prediction.sampleSize != target.sampleSize || prediction.batched != target.batched) {
            throw new IllegalArgumentException("mse operands " + prediction + " and " + target + " differ in shape");
        }
        return node(new LossNodes.MeanSquaredError(prediction, target), "mse", new int[] {1}, false);
    }

    /**
     * {@code mse(act(conv2d(x, weight, bias)), target)} as one node, with {@code act} the identity
     * ({@code activation = false}) or {@code clamp(., 0, cap)} (ReLU: {@code cap = +inf}, ReLU6: 6): the same value
     * and gradients as the separate nodes, in two passes over the convolution's output instead of about seven (see
     * {@link io.tinyptq.backend.cpu.kernels.ActivationMse}). The tail of a single-layer reconstruction.
     */
    public Value conv2dMse(
            Value x,
            Value weight,
            Value bias,
            int strideH,
            int strideW,
            int padTop,
            int padBottom,
            int padLeft,
            int padRight,
            boolean activation,
            float cap,
            Value target) {
        requireRank(x, 3, "conv2d input");
        requireRank(weight, 4, "conv2d weight");
        int[] w = weight.shape;
        if (w[3] != x.dim(2)) {
            throw new IllegalArgumentException("conv2d weight " + weight + " does not match input " + x);
        }
        ConvShape s = ConvShape.explicit(
                1, x.dim(0), x.dim(1), x.dim(2), w[0], w[1], w[2], strideH, strideW, padTop, padBottom, padLeft,
                padRight);
        requireBias(bias, s.outC());
        if (target.sampleSize != s.outputSize() || !target.batched) {
            throw new IllegalArgumentException("mse target " + target + " does not match the convolution's output "
                    + s.outH() + "x" + s.outW() + "x" + s.outC());
        }
        if (activation && !(cap > 0)) {
            throw new IllegalArgumentException("activation cap must be > 0, got " + cap);
        }
        return node(
                new Nodes.ConvMse(x, weight, bias, target, s, activation, cap, maxBatch, par),
                "conv_mse",
                new int[] {1},
                false);
    }

    /** Adds {@code weight * scalar} to the total loss that {@link #backward} differentiates. */
    public void minimize(Value scalar, float weight) {
        if (scalar.sampleSize != 1 || scalar.batched) {
            throw new IllegalArgumentException("loss terms must be scalars, got " + scalar);
        }
        losses.add(scalar);
        lossWeights.add(weight);
    }

    // ------------------------------------------------------------------ execution

    /**
     * Fills input {@code x} with samples {@code rows[from..from+n)} of {@code source} (whole samples back to back),
     * fake-quantized per tensor on the way when {@code scale} is non-null (one scale, optional zero point, grid
     * {@code [qmin, qmax]}). When a padded convolution is the input's only reader, the samples go straight into
     * that convolution's padded buffer and {@code x.data()} is left as it was; otherwise they are copied into
     * {@code x.data()}. Either way the next {@link #forward}{@code (n)} sees the same values.
     */
    public void loadInput(
            Value x, float[] source, int[] rows, int from, int n, float[] scale, float[] zero, float qmin, float qmax) {
        if (!x.batched || x.producer != null || x.param != null) {
            throw new IllegalArgumentException(x + " is not a graph input");
        }
        if (n < 1 || n > maxBatch) {
            throw new IllegalArgumentException("batch " + n + " outside [1, " + maxBatch + "]");
        }
        Node reader = null;
        int readers = 0;
        for (Node node : nodes) {
            for (Value in : node.inputs) {
                if (in == x) {
                    readers++;
                    reader = node;
                }
            }
        }
        if (readers == 1 && !x.requiresGrad) {
            if (reader instanceof Nodes.Conv c
                    && c.inputs[0] == x
                    && c.ws.loadInputRows(c.one.withBatch(n), source, rows, from, scale, zero, qmin, qmax, par)) {
                c.preloaded = n;
                return;
            }
            if (reader instanceof Nodes.ConvMse c
                    && c.inputs[0] == x
                    && c.ws.loadInputRows(c.one.withBatch(n), source, rows, from, scale, zero, qmin, qmax, par)) {
                c.preloaded = n;
                return;
            }
        }
        int size = x.sampleSize;
        float[] dst = x.data;
        par.forRange(n, 4, (t, i0, i1) -> {
            for (int i = i0; i < i1; i++) {
                if (scale == null) {
                    System.arraycopy(source, rows[from + i] * size, dst, i * size, size);
                } else {
                    FakeQuant.forward(
                            source,
                            rows[from + i] * size,
                            1,
                            1,
                            size,
                            scale,
                            zero,
                            qmin,
                            qmax,
                            dst,
                            i * size,
                            Parallel.serial());
                }
            }
        });
    }

    /** Runs every node for a batch of {@code n} samples (inputs hold the first {@code n} samples). */
    public void forward(int n) {
        if (n < 1 || n > maxBatch) {
            throw new IllegalArgumentException("batch " + n + " outside [1, " + maxBatch + "]");
        }
        for (Node node : nodes) {
            node.forward(n);
        }
        batch = n;
    }

    /** The weighted sum of the loss terms after {@link #forward}. */
    public float loss() {
        double total = 0;
        for (int i = 0; i < losses.size(); i++) {
            total += lossWeights.get(i) * losses.get(i).data[0];
        }
        return (float) total;
    }

    /** Back-propagates the total loss of the last {@link #forward} batch; parameter gradients accumulate. */
    public void backward() {
        if (batch < 0) {
            throw new IllegalStateException("backward before forward");
        }
        if (losses.isEmpty()) {
            throw new IllegalStateException("no loss term: call minimize(...)");
        }
        resolveRequiresGrad();
        for (Value v : values) {
            if (v.param == null && !v.alias && v.requiresGrad) {
                Arrays.fill(v.grad, 0, v.size(batch), 0f);
            }
        }
        for (int i = 0; i < losses.size(); i++) {
            losses.get(i).grad[0] += lossWeights.get(i);
        }
        for (int i = nodes.size() - 1; i >= 0; i--) {
            Node node = nodes.get(i);
            if (node.out.requiresGrad) {
                node.backward(batch);
            }
        }
    }

    /** Zeroes all parameter gradients. */
    public void zeroGrad() {
        for (Param p : params.values()) {
            Arrays.fill(p.grad(), 0f);
        }
    }

    /** The nodes' output values, in execution order. */
    public List<Value> values() {
        return Collections.unmodifiableList(values);
    }

    private void resolveRequiresGrad() {
        for (Value v : values) {
            if (v.param != null) {
                v.requiresGrad = v.param.trainable();
            } else if (v.producer != null) {
                boolean any = false;
                for (Value in : v.producer.inputs) {
                    any |= in != null && in.requiresGrad;
                }
                v.requiresGrad = any;
            }
        }
    }

    private Value node(Node node, String kind, int[] shape, boolean batched) {
        for (Value in : node.inputs) {
            if (in != null && !values.contains(in)) {
                throw new IllegalArgumentException("value " + in + " does not belong to this graph");
            }
        }
        Value out = new Value(kind + "_" + nodes.size(), shape, batched, maxBatch, null);
        node.out = out;
        out.producer = node;
        nodes.add(node);
        return add(out);
    }

    private Value add(Value v) {
        values.add(v);
        return v;
    }

    private static ConvShape geometry(int h, int w, int cin, int cout, int kh, int kw, int sh, int sw, Padding p) {
        return p == Padding.SAME
                ? ConvShape.same(1, h, w, cin, cout, kh, kw, sh, sw)
                : ConvShape.valid(1, h, w, cin, cout, kh, kw, sh, sw);
    }

    private static void requireRank(Value v, int rank, String what) {
        if (v.rank() != rank) {
            throw new IllegalArgumentException(what + " " + v + " must have rank " + rank);
        }
    }

    private static void requireBias(Value bias, int channels) {
        if (bias != null && (bias.batched || bias.sampleSize != channels)) {
            throw new IllegalArgumentException("bias " + bias + " must have " + channels + " elements");
        }
    }
}
