package io.tinyptq.plugins.formats.tflite;

import static io.tinyptq.plugins.formats.tflite.BuiltinOperator.QUANTIZE;

import io.tinyptq.api.InvalidModelException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The constant tensors of a TFLite graph, as {@link TfliteImporter} reads them: the bytes of their buffers, their
 * values as float32 (float16 widened, integers dequantized as TFLite's DEQUANTIZE kernel does, INT4 unpacked), the
 * integers they store, and the constants computed at import by folding operators. The {@code where} of each
 * method describes the operator being translated, for error messages.
 */
final class TfliteConstants {
    private final Path file;
    private final ByteBuffer bytes;
    private final TfliteSchema.Model root;
    private final TfliteSchema.Tensor[] tensors;
    /** Constants computed at import (folded operators), by TFLite tensor index. */
    private final Map<Integer, float[]> folded = new HashMap<>();

    TfliteConstants(Path file, ByteBuffer bytes, TfliteSchema.Model root, TfliteSchema.Tensor[] tensors) {
        this.file = file;
        this.bytes = bytes;
        this.root = root;
        this.tensors = tensors;
    }

    boolean isConstant(int tensor) {
        return folded.containsKey(tensor) || bytes(tensor) != null;
    }

    /** Whether {@code tensor} is a constant computed at import by folding operators. */
    boolean isFolded(int tensor) {
        return folded.containsKey(tensor);
    }

    /** The raw bytes of a constant tensor, or {@code null} when the tensor is computed at run time. */
    ByteBuffer bytes(int tensor) {
        long b = tensors[tensor].buffer();
        // Buffer 0 is the empty sentinel every activation tensor points at.
        if (b == 0 || tensors[tensor].isVariable()) {
            return null;
        }
        if (b >= root.bufferCount()) {
            throw new InvalidModelException(file + ": tensor '" + tensorName(tensor, "?") + "' refers to buffer " + b
                    + " but the file has " + root.bufferCount());
        }
        TfliteSchema.Buffer buffer = root.buffer((int) b);
        ByteBuffer data = buffer.data();
        if (data != null && data.remaining() > 0) {
            return data;
        }
        long offset = buffer.offset();
        long size = buffer.size();
        if (offset > 1) {
            if (offset + size > bytes.limit()) {
                throw new InvalidModelException(file + " is truncated: buffer " + b + " of tensor '"
                        + tensorName(tensor, "?") + "' spans bytes " + offset + ".." + (offset + size) + " but the file"
                        + " has " + bytes.limit());
            }
            return bytes.slice((int) offset, (int) size).order(ByteOrder.LITTLE_ENDIAN);
        }
        return null;
    }

    /** Values of a constant as float32, dequantized when stored as integers with a scale. */
    float[] values(int tensor, Supplier<String> where) {
        float[] f = folded.get(tensor);
        if (f != null) {
            return f;
        }
        TfliteSchema.Tensor t = tensors[tensor];
        ByteBuffer data = bytes(tensor);
        int n = elementCount(t.shape());
        int type = t.type();
        if (type == TfliteSchema.INT4 && !t.isSparse()) {
            if (data.remaining() != (n + 1) / 2) {
                throw new InvalidModelException(where.get() + ": constant '" + tensorName(tensor, "?") + "' of shape "
                        + Arrays.toString(t.shape()) + " and type INT4 needs " + (n + 1) / 2
                        + " bytes (two values a byte) but its buffer holds " + data.remaining());
            }
            float[] v = new float[n];
            dequantize(t, int4s(data, n), v, where, tensor);
            return v;
        }
        int width = switch (type) {
            case TfliteSchema.FLOAT32, TfliteSchema.INT32 -> 4;
            case TfliteSchema.FLOAT16, TfliteSchema.INT16 -> 2;
            case TfliteSchema.INT8, TfliteSchema.UINT8 -> 1;
            case TfliteSchema.INT64, TfliteSchema.FLOAT64 -> 8;
            default ->
                throw new InvalidModelException(where.get() + ": constant '" + tensorName(tensor, "?") + "' has type "
                        + TfliteSchema.typeName(type) + ", which tinyptq cannot read");
        };
        if (t.isSparse()) {
            throw new InvalidModelException(where.get() + ": constant '" + tensorName(tensor, "?")
                    + "' is stored sparse, which tinyptq cannot read");
        }
        if (data.remaining() != (long) n * width) {
            throw new InvalidModelException(where.get() + ": constant '" + tensorName(tensor, "?") + "' of shape "
                    + Arrays.toString(t.shape()) + " and type " + TfliteSchema.typeName(type) + " needs "
                    + (long) n * width + " bytes but its buffer holds " + data.remaining());
        }
        float[] v = new float[n];
        switch (type) {
            case TfliteSchema.FLOAT32 -> {
                for (int i = 0; i < n; i++) {
                    v[i] = data.getFloat(4 * i);
                }
            }
            case TfliteSchema.FLOAT16 -> {
                for (int i = 0; i < n; i++) {
                    v[i] = Float.float16ToFloat(data.getShort(2 * i));
                }
            }
            case TfliteSchema.FLOAT64 -> {
                for (int i = 0; i < n; i++) {
                    v[i] = (float) data.getDouble(8 * i);
                }
            }
            default -> dequantize(t, integers(data, type, n), v, where, tensor);
        }
        return v;
    }

    private void dequantize(TfliteSchema.Tensor t, long[] q, float[] v, Supplier<String> where, int tensor) {
        TfliteSchema.Quantization quant = t.quantization();
        float[] scale = quant == null ? new float[0] : quant.scale();
        if (scale.length == 0) {
            throw new InvalidModelException(where.get() + ": constant '" + tensorName(tensor, "?") + "' is stored as "
                    + TfliteSchema.typeName(t.type()) + " without a scale, so its real values are unknown");
        }
        long[] zp = quant.zeroPoint();
        int[] dims = t.shape();
        int axis = quant.quantizedDimension();
        int channels = scale.length;
        int inner = 1;
        if (channels > 1) {
            if (axis < 0 || axis >= dims.length || dims[axis] != channels) {
                throw new InvalidModelException(where.get() + ": constant '" + tensorName(tensor, "?") + "' has "
                        + channels + " scales along dimension " + axis + " of shape " + Arrays.toString(dims));
            }
            for (int d = axis + 1; d < dims.length; d++) {
                inner *= dims[d];
            }
        }
        if (zp.length != 0 && zp.length != channels) {
            throw new InvalidModelException(where.get() + ": constant '" + tensorName(tensor, "?") + "' has " + channels
                    + " scales but " + zp.length + " zero points");
        }
        for (int i = 0; i < v.length; i++) {
            int ch = channels == 1 ? 0 : (i / inner) % channels;
            long zero = zp.length == 0 ? 0 : zp[ch];
            // As TFLite's reference Dequantize: the product in double precision, rounded once to float.
            v[i] = (float) ((double) scale[ch] * (q[i] - zero));
        }
    }

    /** An INT32 or INT64 constant read as plain integers (axes, paddings). */
    long[] integers(int tensor, Supplier<String> where, String role) {
        if (tensor == -1 || folded.containsKey(tensor) || bytes(tensor) == null) {
            throw new InvalidModelException(where.get() + ": the " + role + " operand must be a constant in the file");
        }
        TfliteSchema.Tensor t = tensors[tensor];
        int n = elementCount(t.shape());
        int width = switch (t.type()) {
            case TfliteSchema.INT32 -> 4;
            case TfliteSchema.INT64 -> 8;
            default ->
                throw new InvalidModelException(where.get() + ": " + role + " have type "
                        + TfliteSchema.typeName(t.type()) + ", expected INT32 or INT64");
        };
        ByteBuffer data = bytes(tensor);
        if (data.remaining() != (long) n * width) {
            throw new InvalidModelException(where.get() + ": " + role + " '" + tensorName(tensor, "?") + "' needs "
                    + (long) n * width + " bytes but its buffer holds " + data.remaining());
        }
        return integers(data, t.type(), n);
    }

    static long[] integers(ByteBuffer data, int type, int n) {
        long[] q = new long[n];
        for (int i = 0; i < n; i++) {
            q[i] = switch (type) {
                case TfliteSchema.INT8 -> data.get(i);
                case TfliteSchema.UINT8 -> data.get(i) & 0xff;
                case TfliteSchema.INT16 -> data.getShort(2 * i);
                case TfliteSchema.INT32 -> data.getInt(4 * i);
                default -> data.getLong(8 * i);
            };
        }
        return q;
    }

    /**
     * Unpacks TFLite's INT4 storage: two signed 4-bit values a byte, element {@code 2i} in the low nibble of byte
     * {@code i} and element {@code 2i+1} in its high nibble (TFLite's {@code UnpackDenseInt4IntoInt8}); an odd
     * count leaves the last high nibble unused.
     */
    static long[] int4s(ByteBuffer data, int n) {
        long[] q = new long[n];
        for (int i = 0; i < n; i++) {
            int b = data.get(i >> 1);
            q[i] = (i & 1) == 0 ? (b << 28) >> 28 : (b << 24) >> 28;
        }
        return q;
    }

    /** The integers a constant tensor stores, INT4 unpacked, in the order of its elements. */
    int[] storedIntegers(int tensor) {
        TfliteSchema.Tensor t = tensors[tensor];
        ByteBuffer data = bytes(tensor);
        int n = elementCount(t.shape());
        long[] q = t.type() == TfliteSchema.INT4 ? int4s(data, n) : integers(data, t.type(), n);
        int[] v = new int[n];
        for (int i = 0; i < n; i++) {
            v[i] = (int) q[i];
        }
        return v;
    }

    /**
     * Evaluates DEQUANTIZE, QUANTIZE, RESHAPE, EXPAND_DIMS or SQUEEZE of a constant; the result is a constant for
     * later operators.
     */
    void fold(int code, int input, int output, Supplier<String> where) {
        float[] values = values(input, where);
        TfliteSchema.Tensor out = tensors[output];
        if (code == QUANTIZE) {
            // Round to the output's integer grid and back: the value later operators would see.
            TfliteSchema.Quantization q = out.quantization();
            float[] scale = q == null ? new float[0] : q.scale();
            if (scale.length != 1) {
                throw new InvalidModelException(
                        where.get() + ": QUANTIZE of a constant needs one output scale, found " + scale.length);
            }
            long[] zp = q.zeroPoint();
            long zero = zp.length == 0 ? 0 : zp[0];
            long[] range = integerRange(out.type(), where);
            float[] r = new float[values.length];
            for (int i = 0; i < r.length; i++) {
                long qv = Math.round(values[i] / (double) scale[0]) + zero;
                qv = Math.max(range[0], Math.min(range[1], qv));
                r[i] = (float) (scale[0] * (double) (qv - zero));
            }
            values = r;
        }
        int n = elementCount(out.shape());
        if (n != values.length) {
            throw new InvalidModelException(where.get() + ": folding gives " + values.length + " values but output '"
                    + tensorName(output, "?") + "' has shape " + Arrays.toString(out.shape()));
        }
        folded.put(output, values);
    }

    private static long[] integerRange(int type, Supplier<String> where) {
        return switch (type) {
            case TfliteSchema.INT8 -> new long[] {-128, 127};
            case TfliteSchema.UINT8 -> new long[] {0, 255};
            case TfliteSchema.INT16 -> new long[] {-32768, 32767};
            case TfliteSchema.INT32 -> new long[] {Integer.MIN_VALUE, Integer.MAX_VALUE};
            default ->
                throw new InvalidModelException(
                        where.get() + ": QUANTIZE to " + TfliteSchema.typeName(type) + " is not supported");
        };
    }

    private static int elementCount(int[] dims) {
        long n = 1;
        for (int d : dims) {
            if (d < 0) {
                throw new CorruptFlatBufferException("negative dimension in shape " + Arrays.toString(dims));
            }
            n *= d;
            if (n > Integer.MAX_VALUE) {
                throw new CorruptFlatBufferException("shape " + Arrays.toString(dims) + " has more than 2^31 elements");
            }
        }
        return (int) n;
    }

    private String tensorName(int tensor, String fallback) {
        String n = tensors[tensor].name();
        return n == null || n.isBlank() ? fallback : n;
    }
}
