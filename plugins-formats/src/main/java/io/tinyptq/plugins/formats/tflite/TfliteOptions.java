package io.tinyptq.plugins.formats.tflite;

import com.google.flatbuffers.FlatBufferBuilder;
import io.tinyptq.api.model.Activation;
import io.tinyptq.api.model.Padding;
import io.tinyptq.api.model.Shape;
import java.util.List;
import java.util.function.ToIntFunction;

/**
 * The builtin options tables {@link TfliteWriter} gives its operators (each written field names its id in
 * TensorFlow Lite's {@code schema.fbs}), and the mapping of an IR padding onto TFLite's SAME or VALID.
 */
final class TfliteOptions {
    private TfliteOptions() {}

    /**
     * TFLite's SAME or VALID when it pads exactly as {@code p} does on input {@code in} (rank 3, or rank 2 for the
     * 1-D ops, which pad along W only) with window {@code kh x kw} and strides {@code sh, sw}; {@code null} for an
     * explicit padding that neither matches.
     */
    static Padding tfPadding(Padding p, Shape in, int kh, int sh, int kw, int sw) {
        if (p.kind() != Padding.Kind.EXPLICIT) {
            return p.kind() == Padding.Kind.SAME ? Padding.SAME : Padding.VALID;
        }
        boolean oneD = in.rank() == 2;
        int[] amounts = {p.top(), p.bottom(), p.left(), p.right()};
        for (Padding candidate : List.of(Padding.VALID, Padding.SAME)) {
            int[] a = new int[4];
            if (!oneD) {
                a[0] = candidate.before(in.dim(0), kh, sh, true);
                a[1] = total(candidate, in.dim(0), kh, sh, true) - a[0];
            }
            int w = in.dim(oneD ? 0 : 1);
            a[2] = candidate.before(w, kw, sw, false);
            a[3] = total(candidate, w, kw, sw, false) - a[2];
            if ((oneD || (a[0] == amounts[0] && a[1] == amounts[1])) && a[2] == amounts[2] && a[3] == amounts[3]) {
                return candidate;
            }
        }
        return null;
    }

    /** Elements padded along one axis in all: what makes the output size come out as {@code p} says. */
    private static int total(Padding p, int in, int k, int s, boolean vertical) {
        return Math.max((p.outputSize(in, k, s, vertical) - 1) * s + k - in, 0);
    }

    static ToIntFunction<FlatBufferBuilder> reshapeOptions(int[] shape) {
        return b -> {
            int newShape = TfliteFileBuilder.intVector(b, shape);
            b.startTable(1);
            b.addOffset(0, newShape, 0); // ReshapeOptions.new_shape (id 0)
            return b.endTable();
        };
    }

    static ToIntFunction<FlatBufferBuilder> convOptions(Padding padding, int strideW, int strideH, Activation act) {
        return b -> {
            b.startTable(7);
            b.addByte(0, padding(padding), 0); // Conv2DOptions.padding (id 0)
            b.addInt(1, strideW, 0); // stride_w (id 1)
            b.addInt(2, strideH, 0); // stride_h (id 2)
            b.addByte(3, fused(act), 0); // fused_activation_function (id 3)
            b.addInt(4, 1, 0); // dilation_w_factor (id 4)
            b.addInt(5, 1, 0); // dilation_h_factor (id 5)
            return b.endTable();
        };
    }

    static ToIntFunction<FlatBufferBuilder> depthwiseOptions(
            Padding padding, int strideW, int strideH, int multiplier, Activation act) {
        return b -> {
            b.startTable(7);
            b.addByte(0, padding(padding), 0); // DepthwiseConv2DOptions.padding (id 0)
            b.addInt(1, strideW, 0); // stride_w (id 1)
            b.addInt(2, strideH, 0); // stride_h (id 2)
            b.addInt(3, multiplier, 0); // depth_multiplier (id 3)
            b.addByte(4, fused(act), 0); // fused_activation_function (id 4)
            b.addInt(5, 1, 0); // dilation_w_factor (id 5)
            b.addInt(6, 1, 0); // dilation_h_factor (id 6)
            return b.endTable();
        };
    }

    static ToIntFunction<FlatBufferBuilder> fullyConnectedOptions(Activation act) {
        return b -> {
            b.startTable(5);
            b.addByte(0, fused(act), 0); // FullyConnectedOptions.fused_activation_function (id 0)
            b.addByte(1, (byte) 0, 0); // weights_format DEFAULT (id 1)
            b.addBoolean(2, false, false); // keep_num_dims (id 2): output [1,out]
            return b.endTable();
        };
    }

    static ToIntFunction<FlatBufferBuilder> poolOptions(
            Padding padding, int strideW, int strideH, int fw, int fh, Activation act) {
        return b -> {
            b.startTable(6);
            b.addByte(0, padding(padding), 0); // Pool2DOptions.padding (id 0)
            b.addInt(1, strideW, 0); // stride_w (id 1)
            b.addInt(2, strideH, 0); // stride_h (id 2)
            b.addInt(3, fw, 0); // filter_width (id 3)
            b.addInt(4, fh, 0); // filter_height (id 4)
            b.addByte(5, fused(act), 0); // fused_activation_function (id 5)
            return b.endTable();
        };
    }

    /** AddOptions: only {@code fused_activation_function} (id 0). */
    static ToIntFunction<FlatBufferBuilder> activationOptions(Activation act) {
        return b -> {
            b.startTable(1);
            b.addByte(0, fused(act), 0);
            return b.endTable();
        };
    }

    /** SAME or VALID (explicit paddings are resolved by {@link #tfPadding} first). */
    private static byte padding(Padding p) {
        return (byte) (p.kind() == Padding.Kind.SAME ? TfliteSchema.PADDING_SAME : TfliteSchema.PADDING_VALID);
    }

    private static byte fused(Activation a) {
        return (byte)
                switch (a) {
                    case NONE -> TfliteSchema.ACT_NONE;
                    case RELU -> TfliteSchema.ACT_RELU;
                    case RELU6 -> TfliteSchema.ACT_RELU6;
                };
    }
}
