package io.tinyptq.plugins.formats.tflite;

import static io.tinyptq.plugins.formats.tflite.BuiltinOperator.AVERAGE_POOL_2D;
import static io.tinyptq.plugins.formats.tflite.BuiltinOperator.RELU;

import io.tinyptq.api.InvalidModelException;
import io.tinyptq.api.model.Activation;
import io.tinyptq.api.model.Op;
import io.tinyptq.api.model.Padding;
import io.tinyptq.api.model.Shape;
import io.tinyptq.plugins.formats.tflite.TfliteImporter.OpContext;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;

/**
 * The translation of each operator {@link TfliteImporter} imports into IR ops, with its checks of the operator's
 * operands and options; the importer dispatches each operator here by its code.
 */
final class TfliteOperators {
    private final TfliteImporter imp;

    TfliteOperators(TfliteImporter imp) {
        this.imp = imp;
    }

    void conv2d(OpContext c) {
        c.requireInputs(2);
        TfliteSchema.Conv2DOptions o = c.options(TfliteSchema.OPTIONS_CONV2D, TfliteSchema.Conv2DOptions::new);
        if (o == null) {
            throw new InvalidModelException(c.where() + " has no Conv2DOptions");
        }
        requireNoDilation(c, o.dilationH(), o.dilationW());
        String x = imp.activation(c.in[0], c.where());
        Shape w = imp.constantShape(c.in[1], 4, c, "weight");
        String weight = imp.constant(c, c.in[1], "kernel", w);
        String bias = bias(c, c.input(2), w.dim(0));
        imp.builder.op(new Op.Conv2D(
                c.layer,
                x,
                weight,
                bias,
                c.output(),
                stride(c, o.strideH()),
                stride(c, o.strideW()),
                padding(c, o.padding()),
                fused(c, o.activation())));
    }

    /** A CONV_2D with a 1-row kernel between reshapes: the IR's {@link Op.Conv1D}. */
    void conv1d(OpContext c, OneDimensionalLayers.OneD p) {
        c.requireInputs(2);
        TfliteSchema.Conv2DOptions o = c.options(TfliteSchema.OPTIONS_CONV2D, TfliteSchema.Conv2DOptions::new);
        if (o == null) {
            throw new InvalidModelException(c.where() + " has no Conv2DOptions");
        }
        requireNoDilation(c, o.dilationH(), o.dilationW());
        String x = imp.activation(p.input(), c.where());
        Shape w4 = imp.constantShape(c.in[1], 4, c, "weight");
        // [Cout,1,k,Cin] without its row axis is the IR's [Cout,k,Cin]; the values keep their order.
        Shape w = Shape.of(w4.dim(0), w4.dim(2), w4.dim(3));
        String weight = imp.constant(c, c.in[1], "kernel", w);
        String bias = bias(c, c.input(2), w.dim(0));
        imp.builder.op(new Op.Conv1D(
                c.layer,
                x,
                weight,
                bias,
                c.output(p.output()),
                stride(c, o.strideW()),
                padding(c, o.padding()),
                fused(c, o.activation())));
    }

    /** A pool with a 1-row window between reshapes: the IR's {@link Op.Pool} over {@code [W,C]}. */
    void pool1d(OpContext c, OneDimensionalLayers.OneD p) {
        c.requireInputs(1);
        TfliteSchema.Pool2DOptions o = c.options(TfliteSchema.OPTIONS_POOL2D, TfliteSchema.Pool2DOptions::new);
        String x = imp.activation(p.input(), c.where());
        int kw = o.filterWidth();
        if (kw <= 0) {
            throw new InvalidModelException(c.where() + ": pooling window 1x" + kw + " must be positive");
        }
        Op.PoolKind kind = c.code == AVERAGE_POOL_2D ? Op.PoolKind.AVG : Op.PoolKind.MAX;
        imp.builder.op(new Op.Pool(
                c.layer,
                x,
                c.output(p.output()),
                kind,
                1,
                kw,
                1,
                stride(c, o.strideW()),
                padding(c, o.padding()),
                fused(c, o.activation())));
    }

    void depthwise(OpContext c) {
        c.requireInputs(2);
        TfliteSchema.DepthwiseConv2DOptions o =
                c.options(TfliteSchema.OPTIONS_DEPTHWISE_CONV2D, TfliteSchema.DepthwiseConv2DOptions::new);
        if (o == null) {
            throw new InvalidModelException(c.where() + " has no DepthwiseConv2DOptions");
        }
        requireNoDilation(c, o.dilationH(), o.dilationW());
        String x = imp.activation(c.in[0], c.where());
        Shape w4 = imp.constantShape(c.in[1], 4, c, "weight");
        if (w4.dim(0) != 1) {
            throw new InvalidModelException(
                    c.where() + ": depthwise weight has shape " + w4 + ", expected [1,kh,kw,C*m]");
        }
        // TFLite's 1HWO without the leading 1 is the IR's [kh,kw,Cin*m]; the values keep their order.
        Shape w = Shape.of(w4.dim(1), w4.dim(2), w4.dim(3));
        int cin = imp.activationShape(c.in[0], c.where()).dim(-1);
        if (w.dim(2) % cin != 0) {
            throw new InvalidModelException(c.where() + ": depthwise weight has " + w.dim(2)
                    + " output channels, not a multiple of the " + cin + " input channels");
        }
        int multiplier = w.dim(2) / cin;
        if (o.depthMultiplier() != 0 && o.depthMultiplier() != multiplier) {
            throw new InvalidModelException(c.where() + ": depth_multiplier " + o.depthMultiplier()
                    + " disagrees with the weight shape " + w4 + " on " + cin + " input channels");
        }
        String weight = imp.constant(c, c.in[1], "kernel", w);
        String bias = bias(c, c.input(2), w.dim(2));
        imp.builder.op(new Op.DepthwiseConv2D(
                c.layer,
                x,
                weight,
                bias,
                c.output(),
                stride(c, o.strideH()),
                stride(c, o.strideW()),
                padding(c, o.padding()),
                multiplier,
                fused(c, o.activation())));
    }

    void fullyConnected(OpContext c) {
        c.requireInputs(2);
        TfliteSchema.FullyConnectedOptions o =
                c.options(TfliteSchema.OPTIONS_FULLY_CONNECTED, TfliteSchema.FullyConnectedOptions::new);
        int act = o == null ? TfliteSchema.ACT_NONE : o.activation();
        if (o != null && o.weightsFormat() != 0) {
            throw new InvalidModelException(c.where() + ": weights_format " + o.weightsFormat()
                    + " (shuffled int8) is not supported; only DEFAULT");
        }
        String x = imp.activation(c.in[0], c.where());
        Shape w = imp.constantShape(c.in[1], 2, c, "weight");
        String weight = imp.constant(c, c.in[1], "kernel", w);
        String bias = bias(c, c.input(2), w.dim(0));
        String out = c.output();
        if (o != null && o.keepNumDims() && imp.recordedShapes.get(out).rank() != 1) {
            throw new InvalidModelException(c.where() + ": keep_num_dims on a rank-"
                    + (imp.recordedShapes.get(out).rank() + 1) + " output is not supported");
        }
        imp.builder.op(new Op.FullyConnected(c.layer, x, weight, bias, out, fused(c, act)));
    }

    void add(OpContext c) {
        c.requireInputs(2);
        for (int i = 0; i < 2; i++) {
            if (imp.constants.isConstant(c.in[i])) {
                throw new InvalidModelException(c.where() + ": operand " + i + " '" + imp.tensorName(c.in[i], "?")
                        + "' is a constant; tinyptq imports ADD of two computed tensors (a residual join) only");
            }
        }
        TfliteSchema.AddOptions o = c.options(TfliteSchema.OPTIONS_ADD, TfliteSchema.AddOptions::new);
        int act = o == null ? TfliteSchema.ACT_NONE : o.activation();
        String a = imp.activation(c.in[0], c.where());
        String b = imp.activation(c.in[1], c.where());
        imp.builder.op(new Op.Add(c.layer, a, b, c.output(), fused(c, act)));
    }

    void pool(OpContext c) {
        c.requireInputs(1);
        TfliteSchema.Pool2DOptions o = c.options(TfliteSchema.OPTIONS_POOL2D, TfliteSchema.Pool2DOptions::new);
        if (o == null) {
            throw new InvalidModelException(c.where() + " has no Pool2DOptions");
        }
        String x = imp.activation(c.in[0], c.where());
        int kh = o.filterHeight();
        int kw = o.filterWidth();
        if (kh <= 0 || kw <= 0) {
            throw new InvalidModelException(c.where() + ": pooling window " + kh + "x" + kw + " must be positive");
        }
        Op.PoolKind kind = c.code == AVERAGE_POOL_2D ? Op.PoolKind.AVG : Op.PoolKind.MAX;
        imp.builder.op(new Op.Pool(
                c.layer,
                x,
                c.output(),
                kind,
                kh,
                kw,
                stride(c, o.strideH()),
                stride(c, o.strideW()),
                padding(c, o.padding()),
                fused(c, o.activation())));
    }

    void mean(OpContext c) {
        c.requireInputs(2);
        String x = imp.activation(c.in[0], c.where());
        Shape in = imp.activationShape(c.in[0], c.where());
        long[] axes = imp.constants.integers(c.in[1], c::where, "axes");
        // TFLite axes count the batch dimension; a global average pool reduces exactly the spatial axes 1..rank-1.
        int rank = in.rank() + 1;
        Set<Long> found = new HashSet<>();
        for (long a : axes) {
            found.add(a < 0 ? a + rank : a);
        }
        Set<Long> spatial = new HashSet<>();
        for (long a = 1; a < rank - 1; a++) {
            spatial.add(a);
        }
        if (in.rank() < 2 || !found.equals(spatial)) {
            throw new InvalidModelException(c.where() + ": MEAN over axes " + Arrays.toString(axes) + " of a rank-"
                    + rank + " tensor; tinyptq imports MEAN over the spatial axes only (global average pooling)");
        }
        TfliteSchema.ReducerOptions o = c.options(TfliteSchema.OPTIONS_REDUCER, TfliteSchema.ReducerOptions::new);
        if (o != null && o.keepDims()) {
            // The IR's Mean drops the reduced axes; a reshape restores TFLite's [1,1,C].
            String reduced = imp.unique(c.layer + "/mean");
            // The intermediate has the output's quantization: TFLite's MEAN requantizes straight to it.
            imp.activationSource.put(reduced, c.out[0]);
            imp.builder.op(new Op.Mean(reduced, x, reduced));
            String out = c.output();
            imp.builder.op(new Op.Reshape(c.layer, reduced, out, imp.recordedShapes.get(out)));
        } else {
            imp.builder.op(new Op.Mean(c.layer, x, c.output()));
        }
    }

    void pad(OpContext c) {
        c.requireInputs(2);
        String x = imp.activation(c.in[0], c.where());
        int rank = imp.activationShape(c.in[0], c.where()).rank();
        long[] p = imp.constants.integers(c.in[1], c::where, "paddings");
        if (p.length != 2 * (rank + 1)) {
            throw new InvalidModelException(c.where() + ": paddings hold " + p.length + " values, expected "
                    + 2 * (rank + 1) + " ([rank,2] with the batch axis)");
        }
        if (p[0] != 0 || p[1] != 0) {
            throw new InvalidModelException(
                    c.where() + ": padding the batch axis (" + p[0] + ", " + p[1] + ") is not supported");
        }
        int[] before = new int[rank];
        int[] after = new int[rank];
        for (int i = 0; i < rank; i++) {
            before[i] = nonNegative(c, p[2 * (i + 1)]);
            after[i] = nonNegative(c, p[2 * (i + 1) + 1]);
        }
        imp.builder.op(new Op.Pad(c.layer, x, c.output(), before, after));
    }

    void reshape(OpContext c) {
        c.requireInputs(1);
        String x = imp.activation(c.in[0], c.where());
        String out = c.output();
        imp.builder.op(new Op.Reshape(c.layer, x, out, imp.recordedShapes.get(out)));
    }

    void softmax(OpContext c) {
        c.requireInputs(1);
        TfliteSchema.SoftmaxOptions o = c.options(TfliteSchema.OPTIONS_SOFTMAX, TfliteSchema.SoftmaxOptions::new);
        // A missing options table is taken as the plain softmax the converter always writes, beta = 1.
        float beta = o == null ? 1f : o.beta();
        if (beta != 1f) {
            throw new InvalidModelException(
                    c.where() + ": SOFTMAX with beta " + beta + " is not supported; only beta = 1");
        }
        String x = imp.activation(c.in[0], c.where());
        imp.builder.op(new Op.Softmax(c.layer, x, c.output()));
    }

    void activationOp(OpContext c) {
        c.requireInputs(1);
        String x = imp.activation(c.in[0], c.where());
        imp.builder.op(new Op.Act(c.layer, x, c.output(), c.code == RELU ? Activation.RELU : Activation.RELU6));
    }

    private void requireNoDilation(OpContext c, int dh, int dw) {
        if (dh != 1 || dw != 1) {
            throw new InvalidModelException(c.where() + ": dilation " + dh + "x" + dw + " is not supported; only 1x1");
        }
    }

    private static int stride(OpContext c, int s) {
        if (s <= 0) {
            throw new InvalidModelException(c.where() + ": stride " + s + " must be positive");
        }
        return s;
    }

    private static int nonNegative(OpContext c, long v) {
        if (v < 0 || v > Integer.MAX_VALUE) {
            throw new InvalidModelException(c.where() + ": padding amount " + v + " must be >= 0");
        }
        return (int) v;
    }

    private static Padding padding(OpContext c, int p) {
        return switch (p) {
            case TfliteSchema.PADDING_SAME -> Padding.SAME;
            case TfliteSchema.PADDING_VALID -> Padding.VALID;
            default -> throw new InvalidModelException(c.where() + ": unknown padding " + p);
        };
    }

    private static Activation fused(OpContext c, int act) {
        return switch (act) {
            case TfliteSchema.ACT_NONE -> Activation.NONE;
            case TfliteSchema.ACT_RELU -> Activation.RELU;
            case TfliteSchema.ACT_RELU6 -> Activation.RELU6;
            default ->
                throw new InvalidModelException(c.where() + ": fused activation " + TfliteSchema.activationName(act)
                        + " is not supported; supported: NONE, RELU, RELU6");
        };
    }

    /**
     * Adds the bias constant of {@code c}'s layer, or returns {@code null} when the operand is omitted or is the
     * all-zero {@code <layer>/no_bias} that {@link TfliteWriter} writes for a convolution without bias.
     */
    private String bias(OpContext c, int tensor, int channels) {
        if (tensor == -1) {
            return null;
        }
        Shape b = imp.constantShape(tensor, 1, c, "bias");
        if (b.dim(0) != channels) {
            throw new InvalidModelException(c.where() + ": bias has shape " + b + ", expected [" + channels + "]");
        }
        if (imp.tensorName(tensor, "").endsWith("/" + TfliteWriter.NO_BIAS)
                && allPositiveZero(imp.constants.values(tensor, c::where))) {
            return null;
        }
        return imp.constant(c, tensor, "bias", b);
    }

    private static boolean allPositiveZero(float[] v) {
        for (float x : v) {
            if (Float.floatToRawIntBits(x) != 0) {
                return false;
            }
        }
        return true;
    }
}
