package io.tinyptq.api.model;

import io.tinyptq.api.InvalidModelException;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;

/**
 * One typed operation of the model graph. Operations read named activation tensors ({@link #inputs()}) and
 * named constants ({@link #parameters()}: weights, biases) and write one activation tensor ({@link #output()}).
 *
 * <p>Layouts (activations are per sample, channels last; see {@link Shape}):
 * <ul>
 *   <li>{@link Conv2D}: input {@code [H,W,Cin]}, weight {@code [Cout,kh,kw,Cin]} (TFLite's OHWI), bias {@code [Cout]}</li>
 *   <li>{@link DepthwiseConv2D}: weight {@code [kh,kw,Cin*m]} (TFLite's 1HWO without the 1), bias {@code [Cin*m]};
 *       output channel {@code c*m+j} reads input channel {@code c}</li>
 *   <li>{@link Conv1D}: input {@code [W,Cin]}, weight {@code [Cout,k,Cin]}, bias {@code [Cout]}</li>
 *   <li>{@link FullyConnected}: input {@code [..., in]} read as a flat vector, weight {@code [out,in]}, bias {@code [out]}</li>
 * </ul>
 */
public sealed interface Op {

    /** The layer name, unique in the model, kept from the source file so reports can cite it. */
    String name();

    /** Activation tensors read, in operand order. */
    List<String> inputs();

    /** Constant tensors read (weights first, then biases); empty for ops without parameters. */
    default List<String> parameters() {
        return List.of();
    }

    String output();

    /** A short type name as reports print it ({@code conv2d}, {@code depthwise_conv2d}, ...). */
    String type();

    /** Shape of {@link #output()} given the shapes of inputs and constants; fails naming this layer. */
    Shape inferShape(Function<String, Shape> shapeOf);

    /** An operation with a weight tensor, which quantization simulates per output channel. */
    sealed interface Layer extends Op permits Conv2D, DepthwiseConv2D, Conv1D, FullyConnected {
        String input();

        String weight();

        /** The bias constant's name, or {@code null} when the layer has none. */
        String bias();

        Activation activation();

        /** Axis of the weight tensor that indexes output channels (per-channel quantization axis). */
        int weightChannelAxis();

        /** Multiply-accumulates per sample, given the output shape. */
        long macs(Shape weight, Shape output);

        @Override
        default List<String> inputs() {
            return List.of(input());
        }

        @Override
        default List<String> parameters() {
            return bias() == null ? List.of(weight()) : List.of(weight(), bias());
        }
    }

    record Conv2D(
            String name,
            String input,
            String weight,
            String bias,
            String output,
            int strideH,
            int strideW,
            Padding padding,
            Activation activation)
            implements Layer {
        public Conv2D {
            Checks.names(name, input, weight, output);
            Checks.positive(name, "stride", strideH, strideW);
            Objects.requireNonNull(padding);
            Objects.requireNonNull(activation);
        }

        @Override
        public String type() {
            return "conv2d";
        }

        @Override
        public int weightChannelAxis() {
            return 0;
        }

        @Override
        public long macs(Shape w, Shape out) {
            return (long) out.size() * w.dim(1) * w.dim(2) * w.dim(3);
        }

        @Override
        public Shape inferShape(Function<String, Shape> shapeOf) {
            Shape in = Checks.rank(this, input, shapeOf.apply(input), 3);
            Shape w = Checks.rank(this, weight, shapeOf.apply(weight), 4);
            Checks.equal(this, "weight input channels (axis 3)", w.dim(3), in.dim(2));
            Checks.bias(this, bias, shapeOf, w.dim(0));
            return Shape.of(
                    Checks.out(this, padding, in.dim(0), w.dim(1), strideH, true),
                    Checks.out(this, padding, in.dim(1), w.dim(2), strideW, false),
                    w.dim(0));
        }
    }

    record DepthwiseConv2D(
            String name,
            String input,
            String weight,
            String bias,
            String output,
            int strideH,
            int strideW,
            Padding padding,
            int multiplier,
            Activation activation)
            implements Layer {
        public DepthwiseConv2D {
            Checks.names(name, input, weight, output);
            Checks.positive(name, "stride and multiplier", strideH, strideW, multiplier);
            Objects.requireNonNull(padding);
            Objects.requireNonNull(activation);
        }

        @Override
        public String type() {
            return "depthwise_conv2d";
        }

        @Override
        public int weightChannelAxis() {
            return 2;
        }

        @Override
        public long macs(Shape w, Shape out) {
            return (long) out.size() * w.dim(0) * w.dim(1);
        }

        @Override
        public Shape inferShape(Function<String, Shape> shapeOf) {
            Shape in = Checks.rank(this, input, shapeOf.apply(input), 3);
            Shape w = Checks.rank(this, weight, shapeOf.apply(weight), 3);
            Checks.equal(
                    this, "weight channels (axis 2) = input channels x multiplier", w.dim(2), in.dim(2) * multiplier);
            Checks.bias(this, bias, shapeOf, w.dim(2));
            return Shape.of(
                    Checks.out(this, padding, in.dim(0), w.dim(0), strideH, true),
                    Checks.out(this, padding, in.dim(1), w.dim(1), strideW, false),
                    w.dim(2));
        }
    }

    record Conv1D(
            String name,
            String input,
            String weight,
            String bias,
            String output,
            int stride,
            Padding padding,
            Activation activation)
            implements Layer {
        public Conv1D {
            Checks.names(name, input, weight, output);
            Checks.positive(name, "stride", stride);
            Objects.requireNonNull(padding);
            Objects.requireNonNull(activation);
        }

        @Override
        public String type() {
            return "conv1d";
        }

        @Override
        public int weightChannelAxis() {
            return 0;
        }

        @Override
        public long macs(Shape w, Shape out) {
            return (long) out.size() * w.dim(1) * w.dim(2);
        }

        @Override
        public Shape inferShape(Function<String, Shape> shapeOf) {
            Shape in = Checks.rank(this, input, shapeOf.apply(input), 2);
            Shape w = Checks.rank(this, weight, shapeOf.apply(weight), 3);
            Checks.equal(this, "weight input channels (axis 2)", w.dim(2), in.dim(1));
            Checks.bias(this, bias, shapeOf, w.dim(0));
            return Shape.of(Checks.out(this, padding, in.dim(0), w.dim(1), stride, false), w.dim(0));
        }
    }

    record FullyConnected(String name, String input, String weight, String bias, String output, Activation activation)
            implements Layer {
        public FullyConnected {
            Checks.names(name, input, weight, output);
            Objects.requireNonNull(activation);
        }

        @Override
        public String type() {
            return "fully_connected";
        }

        @Override
        public int weightChannelAxis() {
            return 0;
        }

        @Override
        public long macs(Shape w, Shape out) {
            return (long) w.dim(0) * w.dim(1);
        }

        @Override
        public Shape inferShape(Function<String, Shape> shapeOf) {
            Shape in = shapeOf.apply(input);
            Shape w = Checks.rank(this, weight, shapeOf.apply(weight), 2);
            Checks.equal(this, "weight input features (axis 1) = flattened input size", w.dim(1), in.size());
            Checks.bias(this, bias, shapeOf, w.dim(0));
            return Shape.of(w.dim(0));
        }
    }

    /** Element-wise sum of two tensors of one shape (a residual join), with an optional fused activation. */
    record Add(String name, String a, String b, String output, Activation activation) implements Op {
        public Add {
            Checks.names(name, a, b, output);
            Objects.requireNonNull(activation);
        }

        @Override
        public List<String> inputs() {
            return List.of(a, b);
        }

        @Override
        public String type() {
            return "add";
        }

        @Override
        public Shape inferShape(Function<String, Shape> shapeOf) {
            Shape sa = shapeOf.apply(a);
            Shape sb = shapeOf.apply(b);
            if (!sa.equals(sb)) {
                throw new InvalidModelException("layer '" + name + "' (add): operands " + a + sa + " and " + b + sb
                        + " must have the same shape");
            }
            return sa;
        }
    }

    /**
     * Batch normalization over the last (channel) axis, in inference form:
     * {@code y = act(gamma * (x - mean) / sqrt(variance + epsilon) + beta)}, one {@code [C]} constant each. Models
     * carry it while they train (the cpu backend then normalizes with batch statistics and updates
     * {@code mean}/{@code variance}); {@link BatchNormFolding} folds it into the preceding layer before
     * quantization or export, as deployed models have it.
     */
    record BatchNorm(
            String name,
            String input,
            String gamma,
            String beta,
            String mean,
            String variance,
            String output,
            float epsilon,
            Activation activation)
            implements Op {
        public BatchNorm {
            Checks.names(name, input, gamma, beta, mean, variance, output);
            if (!(epsilon > 0) || !Float.isFinite(epsilon)) {
                throw new IllegalArgumentException("layer '" + name + "': epsilon must be > 0, got " + epsilon);
            }
            Objects.requireNonNull(activation);
        }

        @Override
        public List<String> inputs() {
            return List.of(input);
        }

        @Override
        public List<String> parameters() {
            return List.of(gamma, beta, mean, variance);
        }

        @Override
        public String type() {
            return "batch_norm";
        }

        @Override
        public Shape inferShape(Function<String, Shape> shapeOf) {
            Shape in = shapeOf.apply(input);
            int channels = in.dim(-1);
            Checks.vector(this, "gamma", gamma, shapeOf, channels);
            Checks.vector(this, "beta", beta, shapeOf, channels);
            Checks.vector(this, "mean", mean, shapeOf, channels);
            Checks.vector(this, "variance", variance, shapeOf, channels);
            return in;
        }
    }

    /** A standalone activation. */
    record Act(String name, String input, String output, Activation activation) implements Op {
        public Act {
            Checks.names(name, input, output);
            Objects.requireNonNull(activation);
        }

        @Override
        public List<String> inputs() {
            return List.of(input);
        }

        @Override
        public String type() {
            return activation.name().toLowerCase(java.util.Locale.ROOT);
        }

        @Override
        public Shape inferShape(Function<String, Shape> shapeOf) {
            return shapeOf.apply(input);
        }
    }

    enum PoolKind {
        AVG,
        MAX
    }

    /**
     * Average or max pooling over a window of an {@code [H,W,C]} tensor, or over {@code [W,C]} when the input is
     * rank 2 (then {@code kh = strideH = 1}). Average pooling with SAME padding divides by the number of
     * in-bounds elements, as TFLite does.
     */
    record Pool(
            String name,
            String input,
            String output,
            PoolKind kind,
            int kh,
            int kw,
            int strideH,
            int strideW,
            Padding padding,
            Activation activation)
            implements Op {
        public Pool {
            Checks.names(name, input, output);
            Checks.positive(name, "window and stride", kh, kw, strideH, strideW);
            Objects.requireNonNull(kind);
            Objects.requireNonNull(padding);
            Objects.requireNonNull(activation);
        }

        @Override
        public List<String> inputs() {
            return List.of(input);
        }

        @Override
        public String type() {
            return kind == PoolKind.AVG ? "avg_pool" : "max_pool";
        }

        @Override
        public Shape inferShape(Function<String, Shape> shapeOf) {
            Shape in = shapeOf.apply(input);
            if (in.rank() == 2) {
                return Shape.of(Checks.out(this, padding, in.dim(0), kw, strideW, false), in.dim(1));
            }
            Checks.rank(this, input, in, 3);
            return Shape.of(
                    Checks.out(this, padding, in.dim(0), kh, strideH, true),
                    Checks.out(this, padding, in.dim(1), kw, strideW, false),
                    in.dim(2));
        }
    }

    /** Mean over the spatial axes of {@code [H,W,C]} or {@code [W,C]}: global average pooling to {@code [C]}. */
    record Mean(String name, String input, String output) implements Op {
        public Mean {
            Checks.names(name, input, output);
        }

        @Override
        public List<String> inputs() {
            return List.of(input);
        }

        @Override
        public String type() {
            return "mean";
        }

        @Override
        public Shape inferShape(Function<String, Shape> shapeOf) {
            Shape in = shapeOf.apply(input);
            if (in.rank() < 2) {
                throw new InvalidModelException("layer '" + name + "' (mean): input " + input + in
                        + " must have rank 2 or 3 (spatial axes, then channels)");
            }
            return Shape.of(in.dim(-1));
        }
    }

    /** Reinterprets the per-sample shape (flatten is a reshape to one dimension). */
    record Reshape(String name, String input, String output, Shape shape) implements Op {
        public Reshape {
            Checks.names(name, input, output);
            Objects.requireNonNull(shape);
        }

        @Override
        public List<String> inputs() {
            return List.of(input);
        }

        @Override
        public String type() {
            return "reshape";
        }

        @Override
        public Shape inferShape(Function<String, Shape> shapeOf) {
            Shape in = shapeOf.apply(input);
            Checks.equal(this, "element count of target shape " + shape, shape.size(), in.size());
            return shape;
        }
    }

    /** Zero padding: {@code before[i]} and {@code after[i]} elements along per-sample axis {@code i}. */
    record Pad(String name, String input, String output, int[] before, int[] after) implements Op {
        public Pad {
            Checks.names(name, input, output);
            before = before.clone();
            after = after.clone();
            if (before.length != after.length) {
                throw new IllegalArgumentException(
                        "layer '" + name + "': before and after must have one entry per axis");
            }
        }

        @Override
        public List<String> inputs() {
            return List.of(input);
        }

        @Override
        public String type() {
            return "pad";
        }

        @Override
        public int[] before() {
            return before.clone();
        }

        @Override
        public int[] after() {
            return after.clone();
        }

        @Override
        public Shape inferShape(Function<String, Shape> shapeOf) {
            Shape in = shapeOf.apply(input);
            Checks.equal(this, "number of padded axes", before.length, in.rank());
            int[] d = in.dims();
            for (int i = 0; i < d.length; i++) {
                d[i] += before[i] + after[i];
            }
            return Shape.of(d);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Pad p
                    && name.equals(p.name)
                    && input.equals(p.input)
                    && output.equals(p.output)
                    && Arrays.equals(before, p.before)
                    && Arrays.equals(after, p.after);
        }

        @Override
        public int hashCode() {
            return Objects.hash(name, input, output, Arrays.hashCode(before), Arrays.hashCode(after));
        }

        @Override
        public String toString() {
            return "Pad[" + name + ", " + input + " -> " + output + ", before=" + Arrays.toString(before) + ", after="
                    + Arrays.toString(after) + "]";
        }
    }

    /** Softmax over the last axis. */
    record Softmax(String name, String input, String output) implements Op {
        public Softmax {
            Checks.names(name, input, output);
        }

        @Override
        public List<String> inputs() {
            return List.of(input);
        }

        @Override
        public String type() {
            return "softmax";
        }

        @Override
        public Shape inferShape(Function<String, Shape> shapeOf) {
            return shapeOf.apply(input);
        }
    }
}
