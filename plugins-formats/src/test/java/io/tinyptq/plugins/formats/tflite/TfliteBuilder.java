package io.tinyptq.plugins.formats.tflite;

import com.google.flatbuffers.FlatBufferBuilder;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.ToIntFunction;

/**
 * Writes small TFLite files for tests with flatbuffers-java's {@link FlatBufferBuilder}, field ids as TFLite's
 * {@code schema.fbs} defines them. Independent of the importer's readers: it shares no code with them.
 */
final class TfliteBuilder {
    static final int FLOAT32 = 0;
    static final int INT32 = 2;
    static final int INT8 = 9;

    private record TensorSpec(
            String name, int[] shape, int type, byte[] data, float[] scale, long[] zeroPoint, int quantizedDimension) {}

    private record OperatorSpec(
            int code,
            String custom,
            int[] inputs,
            int[] outputs,
            int optionsType,
            ToIntFunction<FlatBufferBuilder> options) {}

    private final List<TensorSpec> tensors = new ArrayList<>();
    private final List<OperatorSpec> operators = new ArrayList<>();
    private long version = 3;

    TfliteBuilder version(long v) {
        this.version = v;
        return this;
    }

    /** A float32 activation tensor (no data). */
    int activation(String name, int... shape) {
        return add(new TensorSpec(name, shape, FLOAT32, null, null, null, 0));
    }

    /** A tensor of another type without data (an int8 activation). */
    int typedActivation(String name, int type, int... shape) {
        return add(new TensorSpec(name, shape, type, null, null, null, 0));
    }

    int floats(String name, int[] shape, float... values) {
        ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return add(new TensorSpec(name, shape, FLOAT32, b.array(), null, null, 0));
    }

    int int32s(String name, int[] shape, int... values) {
        ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (int v : values) {
            b.putInt(v);
        }
        return add(new TensorSpec(name, shape, INT32, b.array(), null, null, 0));
    }

    /** An int8 constant with per-channel (or per-tensor, one scale) quantization along {@code axis}. */
    int int8s(String name, int[] shape, byte[] q, float[] scale, long[] zeroPoint, int axis) {
        return add(new TensorSpec(name, shape, INT8, q, scale, zeroPoint, axis));
    }

    /** A constant of any type with its raw bytes and per-channel (or per-tensor, one scale) quantization. */
    int quantizedConstant(String name, int type, int[] shape, byte[] data, float[] scale, long[] zeroPoint, int axis) {
        return add(new TensorSpec(name, shape, type, data, scale, zeroPoint, axis));
    }

    /** An activation tensor of {@code type} with per-tensor quantization and no data. */
    int quantizedActivation(String name, int type, int[] shape, float scale, long zeroPoint) {
        return add(new TensorSpec(name, shape, type, null, new float[] {scale}, new long[] {zeroPoint}, 0));
    }

    /** An int8 tensor with quantization but no data (the output of a QUANTIZE). */
    int quantized(String name, int[] shape, float scale, long zeroPoint) {
        return add(new TensorSpec(name, shape, INT8, null, new float[] {scale}, new long[] {zeroPoint}, 0));
    }

    /** Index of the most recently added tensor. */
    int lastTensor() {
        return tensors.size() - 1;
    }

    private int add(TensorSpec t) {
        tensors.add(t);
        return tensors.size() - 1;
    }

    void op(int code, int[] inputs, int[] outputs, int optionsType, ToIntFunction<FlatBufferBuilder> options) {
        operators.add(new OperatorSpec(code, null, inputs, outputs, optionsType, options));
    }

    void op(int code, int[] inputs, int[] outputs) {
        op(code, inputs, outputs, 0, null);
    }

    void custom(String name, int[] inputs, int[] outputs) {
        operators.add(new OperatorSpec(32, name, inputs, outputs, 0, null));
    }

    static ToIntFunction<FlatBufferBuilder> conv2d(int padding, int strideW, int strideH, int act) {
        return b -> {
            b.startTable(6);
            b.addByte(0, (byte) padding, 0);
            b.addInt(1, strideW, 0);
            b.addInt(2, strideH, 0);
            b.addByte(3, (byte) act, 0);
            return b.endTable();
        };
    }

    static ToIntFunction<FlatBufferBuilder> dilatedConv2d(int dilation) {
        return b -> {
            b.startTable(6);
            b.addInt(1, 1, 0);
            b.addInt(2, 1, 0);
            b.addInt(4, dilation, 1);
            b.addInt(5, dilation, 1);
            return b.endTable();
        };
    }

    static ToIntFunction<FlatBufferBuilder> depthwise(int padding, int strideW, int strideH, int multiplier, int act) {
        return b -> {
            b.startTable(7);
            b.addByte(0, (byte) padding, 0);
            b.addInt(1, strideW, 0);
            b.addInt(2, strideH, 0);
            b.addInt(3, multiplier, 0);
            b.addByte(4, (byte) act, 0);
            return b.endTable();
        };
    }

    static ToIntFunction<FlatBufferBuilder> pool(int padding, int strideW, int strideH, int fw, int fh, int act) {
        return b -> {
            b.startTable(6);
            b.addByte(0, (byte) padding, 0);
            b.addInt(1, strideW, 0);
            b.addInt(2, strideH, 0);
            b.addInt(3, fw, 0);
            b.addInt(4, fh, 0);
            b.addByte(5, (byte) act, 0);
            return b.endTable();
        };
    }

    static ToIntFunction<FlatBufferBuilder> activationOnly(int act) {
        return b -> {
            b.startTable(1);
            b.addByte(0, (byte) act, 0);
            return b.endTable();
        };
    }

    static ToIntFunction<FlatBufferBuilder> softmax(float beta) {
        return b -> {
            b.startTable(1);
            b.addFloat(0, beta, 0);
            return b.endTable();
        };
    }

    static ToIntFunction<FlatBufferBuilder> keepDims(boolean keep) {
        return b -> {
            b.startTable(1);
            b.addBoolean(0, keep, false);
            return b.endTable();
        };
    }

    byte[] build(int[] inputs, int[] outputs) {
        FlatBufferBuilder b = new FlatBufferBuilder(1024);
        // Buffers: 0 is the empty sentinel, then one per constant tensor.
        List<Integer> buffers = new ArrayList<>();
        b.startTable(1);
        buffers.add(b.endTable());
        int[] bufferOf = new int[tensors.size()];
        for (int i = 0; i < tensors.size(); i++) {
            TensorSpec t = tensors.get(i);
            if (t.data() == null) {
                continue;
            }
            int data = b.createByteVector(t.data());
            b.startTable(1);
            b.addOffset(0, data, 0);
            buffers.add(b.endTable());
            bufferOf[i] = buffers.size() - 1;
        }
        int[] tensorOffsets = new int[tensors.size()];
        for (int i = 0; i < tensors.size(); i++) {
            TensorSpec t = tensors.get(i);
            int name = b.createString(t.name());
            int shape = intVector(b, t.shape());
            int quant = 0;
            if (t.scale() != null) {
                int scale = floatVector(b, t.scale());
                b.startVector(8, t.zeroPoint().length, 8);
                for (int k = t.zeroPoint().length - 1; k >= 0; k--) {
                    b.addLong(t.zeroPoint()[k]);
                }
                int zp = b.endVector();
                b.startTable(7);
                b.addOffset(2, scale, 0);
                b.addOffset(3, zp, 0);
                b.addInt(6, t.quantizedDimension(), 0);
                quant = b.endTable();
            }
            b.startTable(5);
            b.addOffset(0, shape, 0);
            b.addByte(1, (byte) t.type(), 0);
            b.addInt(2, bufferOf[i], 0);
            b.addOffset(3, name, 0);
            b.addOffset(4, quant, 0);
            tensorOffsets[i] = b.endTable();
        }
        // One operator code per operator keeps the writer simple; the reader must not care.
        int[] codeOffsets = new int[operators.size()];
        int[] opOffsets = new int[operators.size()];
        for (int k = 0; k < operators.size(); k++) {
            OperatorSpec o = operators.get(k);
            int custom = o.custom() == null ? 0 : b.createString(o.custom());
            b.startTable(4);
            b.addByte(0, (byte) Math.min(o.code(), 127), 0);
            b.addOffset(1, custom, 0);
            b.addInt(2, 1, 1);
            b.addInt(3, o.code(), 0);
            codeOffsets[k] = b.endTable();
            int in = intVector(b, o.inputs());
            int out = intVector(b, o.outputs());
            int options = o.options() == null ? 0 : o.options().applyAsInt(b);
            b.startTable(5);
            b.addInt(0, k, 0);
            b.addOffset(1, in, 0);
            b.addOffset(2, out, 0);
            b.addByte(3, (byte) o.optionsType(), 0);
            b.addOffset(4, options, 0);
            opOffsets[k] = b.endTable();
        }
        int tensorVec = b.createVectorOfTables(tensorOffsets);
        int inVec = intVector(b, inputs);
        int outVec = intVector(b, outputs);
        int opVec = b.createVectorOfTables(opOffsets);
        int graphName = b.createString("main");
        b.startTable(5);
        b.addOffset(0, tensorVec, 0);
        b.addOffset(1, inVec, 0);
        b.addOffset(2, outVec, 0);
        b.addOffset(3, opVec, 0);
        b.addOffset(4, graphName, 0);
        int graph = b.endTable();
        int graphs = b.createVectorOfTables(new int[] {graph});
        int codes = b.createVectorOfTables(codeOffsets);
        int bufferVec = b.createVectorOfTables(
                buffers.stream().mapToInt(Integer::intValue).toArray());
        int description = b.createString("written by TfliteBuilder");
        b.startTable(5);
        b.addInt(0, (int) version, 0);
        b.addOffset(1, codes, 0);
        b.addOffset(2, graphs, 0);
        b.addOffset(3, description, 0);
        b.addOffset(4, bufferVec, 0);
        b.finish(b.endTable(), "TFL3");
        return b.sizedByteArray();
    }

    Path write(Path file, int[] inputs, int[] outputs) throws java.io.IOException {
        Files.write(file, build(inputs, outputs));
        return file;
    }

    private static int intVector(FlatBufferBuilder b, int[] v) {
        b.startVector(4, v.length, 4);
        for (int i = v.length - 1; i >= 0; i--) {
            b.addInt(v[i]);
        }
        return b.endVector();
    }

    private static int floatVector(FlatBufferBuilder b, float[] v) {
        b.startVector(4, v.length, 4);
        for (int i = v.length - 1; i >= 0; i--) {
            b.addFloat(v[i]);
        }
        return b.endVector();
    }
}
