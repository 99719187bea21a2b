package io.tinyptq.realdata;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * In-place edits of a {@code .tflite} flatbuffer's first subgraph, for tests that need a variant of a shipped file:
 * a fused activation, a tensor's quantization, the subgraph's output. Each edit overwrites a value the file already
 * stores, so the layout never changes. Field numbers are those of TFLite's schema.fbs (Model: 2 subgraphs;
 * SubGraph: 0 tensors, 2 outputs, 3 operators; Operator: 0 opcode_index, 1 inputs, 2 outputs, 4 builtin_options;
 * OperatorCode: 0 deprecated_builtin_code, 3 builtin_code; Tensor: 4 quantization; QuantizationParameters: 2 scale,
 * 3 zero_point; the first field of every activation-carrying options table is fused_activation_function).
 */
final class TflitePatch {
    static final int ADD = 0;
    static final int AVERAGE_POOL_2D = 1;
    static final int RESHAPE = 22;

    private final byte[] bytes;
    private final ByteBuffer b;
    private final int subgraph;
    private final int[] codes;

    TflitePatch(byte[] bytes) {
        this.bytes = bytes;
        this.b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int model = b.getInt(0);
        this.subgraph = deref(vector(model, 2)[0]);
        int[] c = vector(model, 1);
        this.codes = new int[c.length];
        for (int i = 0; i < c.length; i++) {
            int code = deref(c[i]);
            int deprecated = field(code, 0) < 0 ? 0 : b.get(field(code, 0));
            int builtin = field(code, 3) < 0 ? 0 : b.getInt(field(code, 3));
            codes[i] = Math.max(deprecated, builtin);
        }
    }

    byte[] bytes() {
        return bytes;
    }

    /** The operators of the subgraph, as positions in the file, in execution order. */
    List<Integer> operators() {
        List<Integer> ops = new ArrayList<>();
        for (int p : vector(subgraph, 3)) {
            ops.add(deref(p));
        }
        return ops;
    }

    int builtinCode(int op) {
        int p = field(op, 0);
        return codes[p < 0 ? 0 : b.getInt(p)];
    }

    int input(int op, int i) {
        return b.getInt(vector(op, 1)[i]);
    }

    int output(int op) {
        return b.getInt(vector(op, 2)[0]);
    }

    /** Sets an operator's fused activation (0 NONE, 1 RELU), a value its options table must already store. */
    void setActivation(int op, int activation) {
        int p = field(deref(field(op, 4)), 0);
        if (p < 0) {
            throw new IllegalStateException("the operator stores no fused activation to overwrite");
        }
        b.put(p, (byte) activation);
    }

    /** A per-tensor quantized tensor's zero point. */
    long zeroPoint(int tensor) {
        return b.getLong(vector(quantization(tensor), 3, 8)[0]);
    }

    private int quantization(int tensor) {
        return deref(field(deref(vector(subgraph, 0)[tensor]), 4));
    }

    /** Sets a per-tensor quantized tensor's scale and zero point. */
    void setQuantization(int tensor, float scale, long zeroPoint) {
        int q = quantization(tensor);
        b.putFloat(vector(q, 2)[0], scale);
        b.putLong(vector(q, 3, 8)[0], zeroPoint);
    }

    /** Makes {@code tensor} the subgraph's (first) output. */
    void setOutput(int tensor) {
        b.putInt(vector(subgraph, 2)[0], tensor);
    }

    private int deref(int p) {
        return p + b.getInt(p);
    }

    /** The position of a table's field, or -1 when the table does not store it. */
    private int field(int table, int id) {
        int vtable = table - b.getInt(table);
        int slot = 4 + 2 * id;
        if (slot >= Short.toUnsignedInt(b.getShort(vtable))) {
            return -1;
        }
        int offset = Short.toUnsignedInt(b.getShort(vtable + slot));
        return offset == 0 ? -1 : table + offset;
    }

    /** The positions of a vector field's 4-byte elements (numbers or offsets). */
    private int[] vector(int table, int id) {
        return vector(table, id, 4);
    }

    private int[] vector(int table, int id, int width) {
        int p = field(table, id);
        if (p < 0) {
            return new int[0];
        }
        int v = deref(p);
        int n = b.getInt(v);
        int[] positions = new int[n];
        for (int i = 0; i < n; i++) {
            positions[i] = v + 4 + width * i;
        }
        return positions;
    }
}
