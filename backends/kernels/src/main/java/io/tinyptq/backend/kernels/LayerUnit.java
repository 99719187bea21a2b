package io.tinyptq.backend.kernels;

import io.tinyptq.api.model.Model;
import io.tinyptq.api.model.Op;
import io.tinyptq.api.model.Padding;
import io.tinyptq.api.model.Tensor;
import io.tinyptq.api.quant.Granularity;
import io.tinyptq.api.quant.IntegerGrid;
import io.tinyptq.api.quant.QuantParams;
import io.tinyptq.api.quant.QuantizedModel;
import io.tinyptq.api.quant.Quantizer;
import io.tinyptq.api.spi.TrainingProblem;
import io.tinyptq.api.spi.TrainingSettings;
import io.tinyptq.api.spi.Variable;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * A layer-wise AdaRound or AdaQuant problem laid out for {@link ReconKernels}: the unit's one layer (2-D, depthwise
 * or 1-D convolution, or dense), its shapes in {@code dims}, and every buffer a step reads or writes, allocated once.
 * These arrays are what an accelerator backend transfers to its device when the session starts and keeps there.
 *
 * <p>{@link #of} accepts what the kernels implement and says exactly what it does not: a unit of one
 * {@code conv2d}, {@code depthwise_conv2d}, {@code conv1d} or {@code fully_connected} layer, the rounding or the
 * weights as the only variable, plain MSE, a per-tensor input quantizer (or none), no QDrop and no trained
 * activation scales. Anything else is an {@link UnsupportedOperationException} naming the unit and the reason, so
 * the caller can run that unit elsewhere.
 */
public final class LayerUnit {
    /** Partial sums of the squared error per step (see {@link ReconKernels#lossAt}). */
    public static final int LOSS_PARTS = 256;

    final TrainingProblem problem;
    final Op.Layer layer;
    final int samples;
    public final int[] dims = new int[ReconKernels.DIMS];
    public final float[] hyper = new float[ReconKernels.HYPER];

    // resident data
    public final float[] inputs;
    public final float[] targets;
    public final float[] weight;
    public final float[] bias;
    public final float[] scale;
    public final float[] zero;
    // variables and optimizer state
    public final float[] v;
    public final float[] adamM;
    public final float[] adamV;
    /** Adam's moments of the bias (AdaQuant trains it with the weights). */
    public final float[] biasAdamM;

    public final float[] biasAdamV;
    // per-step work buffers
    public final int[] rows;
    public final float[] x;
    public final float[] softWeight;
    public final float[] dy;
    public final float[] squaredError;
    public final float[] weightGradParts;
    public final float[] lossParts = new float[LOSS_PARTS];

    private LayerUnit(
            TrainingProblem problem, Op.Layer layer, int batch, float[] inputScaleZero, boolean quantizeInput) {
        this.problem = problem;
        this.layer = layer;
        this.samples = problem.samples();
        QuantizedModel qm = problem.model();
        Model m = qm.model();
        Tensor w = m.constant(layer.weight());
        int[] wd = w.shape().dims();
        boolean depthwise = layer instanceof Op.DepthwiseConv2D;
        int inC = depthwise ? m.shape(layer.input()).dim(2) : wd[wd.length - 1];
        int outC = depthwise ? wd[2] : wd[0];
        dims[ReconKernels.BATCH] = batch;
        dims[ReconKernels.OUT_C] = outC;
        dims[ReconKernels.IN_C] = inC;
        if (layer instanceof Op.Conv2D c) {
            spatial(m.shape(c.input()), m.shape(c.output()), wd[1], wd[2], c.strideH(), c.strideW(), c.padding());
        } else if (layer instanceof Op.DepthwiseConv2D d) {
            spatial(m.shape(d.input()), m.shape(d.output()), wd[0], wd[1], d.strideH(), d.strideW(), d.padding());
        } else if (layer instanceof Op.Conv1D c) {
            // [W, C] with weight [OC, K, C] is the conv2d of a 1-row image with weight [OC, 1, K, C] (same bytes).
            int in = m.shape(c.input()).dim(0);
            geometry(
                    1,
                    in,
                    1,
                    m.shape(c.output()).dim(0),
                    1,
                    wd[1],
                    1,
                    c.stride(),
                    0,
                    c.padding().before(in, wd[1], c.stride(), false));
        } else {
            // A dense layer is the 1x1 convolution of a 1x1 image with C channels: weight [OC, C] = [OC, 1, 1, C].
            geometry(1, 1, 1, 1, 1, 1, 1, 1, 0, 0);
        }
        dims[ReconKernels.ACTIVATION] = switch (layer.activation()) {
            case NONE -> ReconKernels.ACT_NONE;
            case RELU -> ReconKernels.ACT_RELU;
            case RELU6 -> ReconKernels.ACT_RELU6;
        };
        dims[ReconKernels.QUANTIZE_INPUT] = quantizeInput ? 1 : 0;
        dims[ReconKernels.HAS_BIAS] = layer.bias() == null ? 0 : 1;
        dims[ReconKernels.DEPTHWISE] = depthwise ? 1 : 0;
        dims[ReconKernels.MULTIPLIER] = depthwise ? ((Op.DepthwiseConv2D) layer).multiplier() : 1;
        dims[ReconKernels.W_CHANNELS] = outC;
        // Output channels are the first axis (inner = the rest) or, depthwise, the last (inner = 1).
        dims[ReconKernels.W_INNER] = depthwise ? 1 : w.data().length / outC;
        dims[ReconKernels.LOSS_PARTS] = LOSS_PARTS;
        dims[ReconKernels.MODE] =
                problem.variables().contains(Variable.WEIGHTS) ? ReconKernels.MODE_WEIGHTS : ReconKernels.MODE_ROUNDING;

        Quantizer wqz = qm.weightQuantizers().get(layer.name());
        QuantParams wp = wqz.params();
        boolean perChannel = wqz.spec().granularity() == Granularity.PER_CHANNEL;
        this.scale = perChannel ? wp.scale().clone() : fill(outC, wp.scale(0));
        this.zero = perChannel ? wp.zeroPoint().clone() : fill(outC, wp.zeroPoint()[0]);
        IntegerGrid g = wqz.spec().grid();
        hyper[ReconKernels.W_QMIN] = g.n();
        hyper[ReconKernels.W_QMAX] = g.p();
        hyper[ReconKernels.IN_SCALE] = inputScaleZero[0];
        hyper[ReconKernels.IN_ZERO] = inputScaleZero[1];
        hyper[ReconKernels.IN_QMIN] = inputScaleZero[2];
        hyper[ReconKernels.IN_QMAX] = inputScaleZero[3];
        hyper[ReconKernels.TRAIN] = 1;

        this.inputs = problem.inputs();
        this.targets = problem.targets();
        this.weight = w.data().clone();
        this.bias = layer.bias() == null
                ? new float[outC]
                : m.constant(layer.bias()).data().clone();
        int nW = weight.length;
        this.v = new float[nW];
        initV(weight, scale, dims[ReconKernels.W_INNER], outC, v);
        this.adamM = new float[nW];
        this.adamV = new float[nW];
        this.biasAdamM = new float[outC];
        this.biasAdamV = new float[outC];
        this.rows = new int[batch];
        this.x = new float[batch * ReconKernels.inSize(dims)];
        this.softWeight = new float[nW];
        int outN = batch * ReconKernels.outSize(dims);
        this.dy = new float[outN];
        this.squaredError = new float[outN];
        this.weightGradParts = new float[batch * nW];
    }

    /** The geometry of a 2-D or depthwise convolution: image and kernel sizes, strides, leading padding. */
    private void spatial(
            io.tinyptq.api.model.Shape in, io.tinyptq.api.model.Shape out, int kh, int kw, int sh, int sw, Padding p) {
        geometry(
                in.dim(0),
                in.dim(1),
                out.dim(0),
                out.dim(1),
                kh,
                kw,
                sh,
                sw,
                p.before(in.dim(0), kh, sh, true),
                p.before(in.dim(1), kw, sw, false));
    }

    private void geometry(
            int inH, int inW, int outH, int outW, int kh, int kw, int sh, int sw, int padTop, int padLeft) {
        dims[ReconKernels.IN_H] = inH;
        dims[ReconKernels.IN_W] = inW;
        dims[ReconKernels.OUT_H] = outH;
        dims[ReconKernels.OUT_W] = outW;
        dims[ReconKernels.K_H] = kh;
        dims[ReconKernels.K_W] = kw;
        dims[ReconKernels.STRIDE_H] = sh;
        dims[ReconKernels.STRIDE_W] = sw;
        dims[ReconKernels.PAD_TOP] = padTop;
        dims[ReconKernels.PAD_LEFT] = padLeft;
    }

    /**
     * The problem laid out for the kernels, or an {@link UnsupportedOperationException} saying why these kernels
     * cannot run it.
     */
    public static LayerUnit of(TrainingProblem problem, TrainingSettings settings) {
        Model m = problem.model().model();
        String unit = "unit '" + m.name() + "'";
        if (m.ops().size() != 1 || !(m.ops().get(0) instanceof Op.Layer)) {
            List<String> ops = m.ops().stream().map(Op::name).toList();
            throw new UnsupportedOperationException(unit + " is not a single conv2d, depthwise_conv2d, conv1d or"
                    + " fully_connected layer (it has " + (ops.size() <= 3 ? ops : ops.size() + " ops")
                    + "); the kernels run layer-wise units of those ops");
        }
        Op.Layer layer = (Op.Layer) m.ops().get(0);
        if (!problem.variables().equals(Set.of(Variable.ROUNDING))
                && !problem.variables().equals(Set.of(Variable.WEIGHTS))) {
            throw new UnsupportedOperationException(unit + " optimizes " + problem.variables()
                    + "; the kernels optimize the rounding (AdaRound) or the weights (AdaQuant) alone");
        }
        if (problem.variables().contains(Variable.ROUNDING)
                && !problem.rounding().equals(io.tinyptq.api.spi.TrainingOps.RECTIFIED_SIGMOID)) {
            throw new UnsupportedOperationException(
                    unit + ": the kernels round with the rectified sigmoid only, not '" + problem.rounding() + "'");
        }
        if (problem.objective() != TrainingProblem.Objective.MSE || problem.fisherWeights() != null) {
            throw new UnsupportedOperationException(unit + ": the kernels minimize the plain output MSE only");
        }
        if (problem.fpInputs() != null) {
            throw new UnsupportedOperationException(unit + ": the kernels do not implement QDrop's input mixing");
        }
        if (settings.biasLearningRate() > 0) {
            throw new UnsupportedOperationException(
                    unit + ": the kernels step weights and biases with one learning rate");
        }
        Quantizer wq = problem.model().weightQuantizers().get(layer.name());
        if (wq == null) {
            throw new UnsupportedOperationException(
                    unit + ": layer '" + layer.name() + "' has no weight quantizer to round to");
        }
        if (wq.spec().granularity() == Granularity.PER_CHANNEL
                && wq.spec().channelAxis() != layer.weightChannelAxis()) {
            throw new UnsupportedOperationException(unit + ": weight quantizer channels along axis "
                    + wq.spec().channelAxis() + "; the kernels take them along the output-channel axis "
                    + layer.weightChannelAxis());
        }
        int rank = layer instanceof Op.Conv2D ? 4 : layer instanceof Op.FullyConnected ? 2 : 3;
        if (m.constant(layer.weight()).shape().rank() != rank) {
            throw new UnsupportedOperationException(unit + ": weight of rank "
                    + m.constant(layer.weight()).shape().rank());
        }
        if (layer instanceof Op.FullyConnected f
                && m.shape(f.input()).size() != m.constant(f.weight()).shape().dim(1)) {
            throw new UnsupportedOperationException(unit + ": dense input size differs from the weight's");
        }
        String in = layer.input();
        Quantizer iq = problem.model().activationQuantizers().get(in);
        boolean quantizeInput = iq != null && problem.quantizeActivations();
        if (quantizeInput
                && settings.activationLearningRate() > 0
                && settings.activationScales().contains(in)) {
            throw new UnsupportedOperationException(
                    unit + ": the kernels do not train activation step sizes" + " (activations.learning_rate > 0)");
        }
        float[] inQ = new float[4];
        if (quantizeInput) {
            if (iq.params().channels() != 1) {
                throw new UnsupportedOperationException(unit + ": input quantizer of '" + in + "' is per-channel");
            }
            IntegerGrid g = iq.spec().grid();
            inQ = new float[] {iq.params().scale(0), iq.params().zeroPoint()[0], g.n(), g.p()};
        }
        int batch = Math.min(settings.batchSize(), problem.samples());
        long inputValues = (long) problem.samples() * m.shape(in).size();
        long perSampleGrads = (long) batch * m.constant(layer.weight()).data().length;
        if (inputValues > Integer.MAX_VALUE
                || (long) problem.targets().length > Integer.MAX_VALUE
                || perSampleGrads > Integer.MAX_VALUE) {
            throw new UnsupportedOperationException(unit + ": more than 2^31 values in one buffer");
        }
        return new LayerUnit(problem, layer, batch, inQ, quantizeInput);
    }

    public int batch() {
        return dims[ReconKernels.BATCH];
    }

    public int samples() {
        return samples;
    }

    /** Name of the unit's layer. */
    public String layerName() {
        return layer.name();
    }

    /** AdaRound's initial V: {@code h(V)} equals the fractional part of {@code W/s}, so {@code W~ = W} at first. */
    static void initV(float[] w, float[] scale, int inner, int channels, float[] v) {
        for (int i = 0; i < w.length; i++) {
            float s = scale[(i / inner) % channels];
            float ws = w[i] / s;
            float frac = ws - (float) Math.floor(ws);
            double sig = (frac - ReconKernels.GAMMA) / (double) (ReconKernels.ZETA - ReconKernels.GAMMA);
            v[i] = (float) Math.log(sig / (1 - sig));
        }
    }

    /**
     * Writes the result into the problem's quantized model: the hard-rounded weights
     * {@code s (clamp(floor(W/s) + z + [V >= 0], n, p) - z)}, which lie on the quantizer's grid, or the trained float
     * weights and biases (AdaQuant; the weight quantizer applies to them as before).
     */
    void commit() {
        QuantizedModel qm = problem.model();
        Model m = qm.model();
        if (dims[ReconKernels.MODE] == ReconKernels.MODE_WEIGHTS) {
            Model.Builder b = m.toBuilder()
                    .constant(
                            layer.weight(),
                            new Tensor(m.constant(layer.weight()).shape(), weight.clone()));
            if (layer.bias() != null) {
                b.constant(layer.bias(), new Tensor(m.constant(layer.bias()).shape(), bias.clone()));
            }
            qm.setModel(b.build());
            return;
        }
        int inner = dims[ReconKernels.W_INNER];
        int channels = dims[ReconKernels.W_CHANNELS];
        float qmin = hyper[ReconKernels.W_QMIN];
        float qmax = hyper[ReconKernels.W_QMAX];
        float[] hard = new float[weight.length];
        for (int i = 0; i < weight.length; i++) {
            int c = (i / inner) % channels;
            float s = scale[c];
            float z = zero[c];
            float u = (float) Math.floor(weight[i] / s) + z + (v[i] >= 0f ? 1f : 0f);
            hard[i] = s * (Math.min(Math.max(u, qmin), qmax) - z);
        }
        Tensor w = m.constant(layer.weight());
        qm.setModel(m.toBuilder()
                .constant(layer.weight(), new Tensor(w.shape(), hard))
                .build());
    }

    private static float[] fill(int n, float value) {
        float[] a = new float[n];
        Arrays.fill(a, value);
        return a;
    }

    /** {@code HxWxC->OHxOWxOC kKHxKW sS} of the unit's layer. */
    public String shapeString() {
        int[] d = dims;
        return d[ReconKernels.IN_H] + "x" + d[ReconKernels.IN_W] + "x" + d[ReconKernels.IN_C] + "->"
                + d[ReconKernels.OUT_H]
                + "x" + d[ReconKernels.OUT_W] + "x" + d[ReconKernels.OUT_C] + " k" + d[ReconKernels.K_H] + "x"
                + d[ReconKernels.K_W] + (d[ReconKernels.DEPTHWISE] != 0 ? " dw" : "") + " s" + d[ReconKernels.STRIDE_H];
    }

    @Override
    public String toString() {
        return layer.name() + " " + Arrays.toString(Arrays.copyOf(dims, ReconKernels.DIMS));
    }
}
