package io.tinyptq.plugins.formats.tflite;

import com.google.flatbuffers.FlatBufferBuilder;
import io.tinyptq.api.InvalidModelException;
import io.tinyptq.api.integer.TensorQuant;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToIntFunction;

/**
 * The contents of a TFLite file that {@link TfliteWriter} writes: its tensors, buffers, operator codes and
 * operators in index order, and their serialization as the flatbuffer ({@link #build}), each table written field id
 * by field id from TensorFlow Lite's {@code schema.fbs}.
 */
final class TfliteFileBuilder {
    /** A tensor; {@code quant} is its quantization ({@code null}: none) with {@code axis} in TFLite's layout. */
    record TensorSpec(String name, int[] shape, int type, int buffer, TensorQuant quant) {}

    private record OperatorSpec(
            int opcodeIndex, int[] inputs, int[] outputs, int optionsType, ToIntFunction<FlatBufferBuilder> options) {}

    /** An entry of {@code operator_codes}: a builtin at one version. */
    private record OpCode(int code, int version) {}

    private final List<TensorSpec> tensors = new ArrayList<>();
    /** Raw little-endian bytes of each buffer; buffer 0 is the empty sentinel TFLite requires. */
    private final List<byte[]> buffers = new ArrayList<>();
    /** Builtin code and version to index in {@code operator_codes}, in order of first use. */
    private final Map<OpCode, Integer> opcodes = new LinkedHashMap<>();

    private final List<OperatorSpec> operators = new ArrayList<>();

    TfliteFileBuilder() {
        buffers.add(new byte[0]);
    }

    /** Tensor {@code index}, as added. */
    TensorSpec tensor(int index) {
        return tensors.get(index);
    }

    int addTensor(String name, int[] shape, int type, int buffer, TensorQuant quant) {
        tensors.add(new TensorSpec(name, shape, type, buffer, quant));
        return tensors.size() - 1;
    }

    int constantTensor(String name, int[] shape, int type, byte[] data, TensorQuant quant) {
        buffers.add(data);
        return addTensor(name, shape, type, buffers.size() - 1, quant);
    }

    /** Adds an operator with its one output tensor, builtin {@code code} at {@code version}. */
    void operator(
            int code,
            int version,
            int[] inputs,
            int output,
            int optionsType,
            ToIntFunction<FlatBufferBuilder> options) {
        int index = opcodes.computeIfAbsent(new OpCode(code, version), k -> opcodes.size());
        operators.add(new OperatorSpec(index, inputs, new int[] {output}, options == null ? 0 : optionsType, options));
    }

    /** The flatbuffer of the file, with graph {@code inputs} and {@code outputs}; {@code modelName} for messages. */
    byte[] build(String modelName, int[] inputs, int[] outputs) {
        long size = 4096;
        for (byte[] b : buffers) {
            size += b.length + 32;
        }
        if (size > Integer.MAX_VALUE - 16 * 1024 * 1024) {
            throw new InvalidModelException("model '" + modelName + "' has " + size + " bytes of constants;"
                    + " the tflite writer writes files under 2 GB");
        }
        FlatBufferBuilder b = new FlatBufferBuilder((int) size + tensors.size() * 128);

        // table Buffer { data:[ubyte] (force_align: 16) (id 0); offset (id 1); size (id 2) }
        int[] bufferOffsets = new int[buffers.size()];
        for (int i = buffers.size() - 1; i >= 0; i--) {
            byte[] data = buffers.get(i);
            int vector = 0;
            if (data.length > 0) {
                ByteBuffer v = b.createUnintializedVector(1, data.length, 16);
                v.put(data);
                vector = b.endVector();
            }
            b.startTable(3);
            if (vector != 0) {
                b.addOffset(0, vector, 0);
            }
            bufferOffsets[i] = b.endTable();
        }

        // table Tensor { shape (id 0); type (id 1); buffer (id 2); name (id 3); quantization (id 4); ... }
        int[] tensorOffsets = new int[tensors.size()];
        for (int i = 0; i < tensors.size(); i++) {
            TensorSpec t = tensors.get(i);
            int name = b.createString(t.name());
            int shape = intVector(b, t.shape());
            int quant = t.quant() == null ? 0 : quantization(b, t.quant());
            b.startTable(5);
            b.addOffset(0, shape, 0);
            b.addByte(1, (byte) t.type(), TfliteSchema.FLOAT32);
            b.addInt(2, t.buffer(), 0);
            b.addOffset(3, name, 0);
            if (quant != 0) {
                b.addOffset(4, quant, 0);
            }
            tensorOffsets[i] = b.endTable();
        }

        // table Operator { opcode_index:uint (id 0); inputs (id 1); outputs (id 2);
        //                  builtin_options_type:ubyte (id 3); builtin_options (id 4); ... }
        int[] operatorOffsets = new int[operators.size()];
        for (int k = 0; k < operators.size(); k++) {
            OperatorSpec o = operators.get(k);
            int in = intVector(b, o.inputs());
            int out = intVector(b, o.outputs());
            int options = o.options() == null ? 0 : o.options().applyAsInt(b);
            b.startTable(5);
            b.addInt(0, o.opcodeIndex(), 0);
            b.addOffset(1, in, 0);
            b.addOffset(2, out, 0);
            b.addByte(3, (byte) o.optionsType(), 0);
            if (options != 0) {
                b.addOffset(4, options, 0);
            }
            operatorOffsets[k] = b.endTable();
        }

        // table SubGraph { tensors (id 0); inputs (id 1); outputs (id 2); operators (id 3); name (id 4) }
        int tensorVector = b.createVectorOfTables(tensorOffsets);
        int inputVector = intVector(b, inputs);
        int outputVector = intVector(b, outputs);
        int operatorVector = b.createVectorOfTables(operatorOffsets);
        int graphName = b.createString("main");
        b.startTable(5);
        b.addOffset(0, tensorVector, 0);
        b.addOffset(1, inputVector, 0);
        b.addOffset(2, outputVector, 0);
        b.addOffset(3, operatorVector, 0);
        b.addOffset(4, graphName, 0);
        int graph = b.endTable();

        // table OperatorCode { deprecated_builtin_code:byte (id 0); custom_code (id 1); version:int = 1 (id 2);
        //                      builtin_code:BuiltinOperator (int32, id 3) }
        int[] codeOffsets = new int[opcodes.size()];
        for (var e : opcodes.entrySet()) {
            int code = e.getKey().code();
            b.startTable(4);
            b.addByte(0, (byte) Math.min(code, 127), 0);
            b.addInt(2, e.getKey().version(), 0);
            b.addInt(3, code, 0);
            codeOffsets[e.getValue()] = b.endTable();
        }

        // table Model { version:uint (id 0); operator_codes (id 1); subgraphs (id 2); description (id 3);
        //               buffers (id 4); ... }
        int codeVector = b.createVectorOfTables(codeOffsets);
        int graphVector = b.createVectorOfTables(new int[] {graph});
        int description = b.createString("tinyptq");
        int bufferVector = b.createVectorOfTables(bufferOffsets);
        b.startTable(5);
        b.addInt(0, (int) TfliteSchema.VERSION, 0);
        b.addOffset(1, codeVector, 0);
        b.addOffset(2, graphVector, 0);
        b.addOffset(3, description, 0);
        b.addOffset(4, bufferVector, 0);
        b.finish(b.endTable(), TfliteSchema.IDENTIFIER);
        return b.sizedByteArray();
    }

    /**
     * table QuantizationParameters { min (id 0); max (id 1); scale:[float] (id 2); zero_point:[long] (id 3);
     * details_type (id 4); details (id 5); quantized_dimension:int (id 6) }, {@code q.axis()} in TFLite's layout.
     */
    private static int quantization(FlatBufferBuilder b, TensorQuant q) {
        float[] scale = q.scale();
        int[] zero = q.zeroPoint();
        b.startVector(4, scale.length, 4);
        for (int i = scale.length - 1; i >= 0; i--) {
            b.addFloat(scale[i]);
        }
        int scales = b.endVector();
        b.startVector(8, zero.length, 8);
        for (int i = zero.length - 1; i >= 0; i--) {
            b.addLong(zero[i]);
        }
        int zeros = b.endVector();
        b.startTable(7);
        b.addOffset(2, scales, 0);
        b.addOffset(3, zeros, 0);
        b.addInt(6, q.axis(), 0);
        return b.endTable();
    }

    static int intVector(FlatBufferBuilder b, int[] v) {
        b.startVector(4, v.length, 4);
        for (int i = v.length - 1; i >= 0; i--) {
            b.addInt(v[i]);
        }
        return b.endVector();
    }
}
