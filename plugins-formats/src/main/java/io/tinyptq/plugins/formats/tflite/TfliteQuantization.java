package io.tinyptq.plugins.formats.tflite;

import io.tinyptq.api.InvalidModelException;
import io.tinyptq.api.integer.ElementType;
import io.tinyptq.api.integer.TensorQuant;
import io.tinyptq.api.model.Shape;
import io.tinyptq.plugins.formats.tflite.TfliteSchema.Operator;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The integer side of a TFLite graph, for {@link TfliteImporter}: whether the graph computes integer activations
 * (a fully-integer model), and the quantization of each tensor as a {@link TensorQuant}.
 */
final class TfliteQuantization {
    private final Path file;
    private final TfliteSchema.Model root;
    private final TfliteSchema.SubGraph graph;
    private final TfliteSchema.Tensor[] tensors;
    private final TfliteConstants constants;

    TfliteQuantization(
            Path file,
            TfliteSchema.Model root,
            TfliteSchema.SubGraph graph,
            TfliteSchema.Tensor[] tensors,
            TfliteConstants constants) {
        this.file = file;
        this.root = root;
        this.graph = graph;
        this.tensors = tensors;
        this.constants = constants;
    }

    /**
     * A description of the first integer activation in the file (a graph input, or an operator reading a computed
     * tensor and writing INT8, UINT8 or INT16), or {@code null} for a float model.
     */
    String integerActivation() {
        for (int in : graph.inputs()) {
            if (validTensor(in) && integerActivationType(tensors[in].type())) {
                return "its input '" + tensorName(in, "#" + in) + "' is " + TfliteSchema.typeName(tensors[in].type());
            }
        }
        for (int k = 0; k < graph.operatorCount(); k++) {
            Operator op = graph.operator(k);
            int[] in = op.inputs();
            if (in.length == 0 || !validTensor(in[0]) || constants.bytes(in[0]) != null) {
                continue;
            }
            for (int out : op.outputs()) {
                if (validTensor(out) && integerActivationType(tensors[out].type())) {
                    long opcode = op.opcodeIndex();
                    int code = opcode < root.operatorCodeCount()
                            ? root.operatorCode((int) opcode).builtinCode()
                            : -1;
                    return "operator " + k + " (" + BuiltinOperator.name(code) + ") computes the "
                            + TfliteSchema.typeName(tensors[out].type()) + " tensor '" + tensorName(out, "#" + out)
                            + "'";
                }
            }
        }
        return null;
    }

    private static boolean integerActivationType(int type) {
        return type == TfliteSchema.INT8 || type == TfliteSchema.UINT8 || type == TfliteSchema.INT16;
    }

    static boolean integerType(int type) {
        return type == TfliteSchema.INT8
                || type == TfliteSchema.INT16
                || type == TfliteSchema.INT32
                || type == TfliteSchema.INT4;
    }

    /**
     * The {@link TensorQuant} of TFLite tensor {@code tensor}. A per-channel axis is given in the IR layout: for a
     * constant of IR shape {@code ir} the axis with as many channels and the same elements after it as TFLite's
     * {@code quantized_dimension} (a depthwise weight loses its leading 1); for an activation ({@code ir == null})
     * the axis without the batch dimension.
     */
    TensorQuant tensorQuant(int tensor, Shape ir) {
        TfliteSchema.Tensor t = tensors[tensor];
        String name = tensorName(tensor, "#" + tensor);
        ElementType type = switch (t.type()) {
            case TfliteSchema.FLOAT32 -> ElementType.FLOAT32;
            case TfliteSchema.INT4 -> ElementType.INT4;
            case TfliteSchema.INT8 -> ElementType.INT8;
            case TfliteSchema.INT16 -> ElementType.INT16;
            case TfliteSchema.INT32 -> ElementType.INT32;
            default ->
                throw new InvalidModelException(file + ": tensor '" + name + "' has type "
                        + TfliteSchema.typeName(t.type()) + ", which integer import does not read");
        };
        if (type == ElementType.FLOAT32) {
            return TensorQuant.float32();
        }
        TfliteSchema.Quantization q = t.quantization();
        float[] scale = q == null ? new float[0] : q.scale();
        if (scale.length == 0) {
            throw new InvalidModelException(file + ": the " + type + " tensor '" + name + "' has no scale, so its real"
                    + " values are unknown");
        }
        long[] zp = q.zeroPoint();
        if (zp.length != 0 && zp.length != 1 && zp.length != scale.length) {
            throw new InvalidModelException(
                    file + ": tensor '" + name + "' has " + scale.length + " scales but " + zp.length + " zero points");
        }
        int[] zero = new int[scale.length];
        for (int i = 0; i < zero.length; i++) {
            long z = zp.length == 0 ? 0 : zp[zp.length == 1 ? 0 : i];
            if (z < Integer.MIN_VALUE || z > Integer.MAX_VALUE) {
                throw new InvalidModelException(file + ": tensor '" + name + "' has zero point " + z);
            }
            zero[i] = (int) z;
        }
        int axis = 0;
        if (scale.length > 1) {
            int[] dims = t.shape();
            int qd = q.quantizedDimension();
            if (qd < 0 || qd >= dims.length || dims[qd] != scale.length) {
                throw new InvalidModelException(file + ": tensor '" + name + "' has " + scale.length
                        + " scales along dimension " + qd + " of shape " + Arrays.toString(dims));
            }
            if (ir == null) {
                if (qd == 0) {
                    throw new InvalidModelException(file + ": tensor '" + name + "' is quantized along its batch axis");
                }
                axis = qd - 1;
            } else {
                long inner = 1;
                for (int d = qd + 1; d < dims.length; d++) {
                    inner *= dims[d];
                }
                axis = -1;
                for (int a = 0; a < ir.rank() && axis < 0; a++) {
                    long after = 1;
                    for (int d = a + 1; d < ir.rank(); d++) {
                        after *= ir.dim(d);
                    }
                    if (ir.dim(a) == scale.length && after == inner) {
                        axis = a;
                    }
                }
                if (axis < 0) {
                    throw new InvalidModelException(file + ": tensor '" + name + "' is quantized along dimension " + qd
                            + " of " + Arrays.toString(dims) + ", which its IR shape " + ir + " does not keep");
                }
            }
        }
        try {
            return new TensorQuant(type, scale, zero, axis);
        } catch (IllegalArgumentException e) {
            throw new InvalidModelException(file + ": tensor '" + name + "': " + e.getMessage());
        }
    }

    private boolean validTensor(int t) {
        return t >= 0 && t < tensors.length;
    }

    private String tensorName(int tensor, String fallback) {
        String n = tensors[tensor].name();
        return n == null || n.isBlank() ? fallback : n;
    }
}
