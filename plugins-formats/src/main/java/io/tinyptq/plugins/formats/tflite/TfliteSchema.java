package io.tinyptq.plugins.formats.tflite;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.function.Supplier;

/**
 * Views of the TFLite flatbuffer tables the importer reads. Field ids follow TensorFlow Lite's
 * {@code schema.fbs} (schema version 3): the n-th field of a table has id n, deprecated fields included.
 * Only what tinyptq needs is exposed; everything else in a file is ignored.
 */
final class TfliteSchema {
    /** The file identifier at bytes 4..7 of every TFLite flatbuffer. */
    static final String IDENTIFIER = "TFL3";
    /** The schema version this reader understands ({@code Model.version}). */
    static final long VERSION = 3;

    /** {@code TensorType} values. */
    static final int FLOAT32 = 0;

    static final int FLOAT16 = 1;
    static final int INT32 = 2;
    static final int UINT8 = 3;
    static final int INT64 = 4;
    static final int INT16 = 7;
    static final int INT8 = 9;
    static final int FLOAT64 = 10;
    /** Signed 4-bit integers, two a byte (low nibble first). */
    static final int INT4 = 17;

    private static final String[] TYPE_NAMES = {
        "FLOAT32",
        "FLOAT16",
        "INT32",
        "UINT8",
        "INT64",
        "STRING",
        "BOOL",
        "INT16",
        "COMPLEX64",
        "INT8",
        "FLOAT64",
        "COMPLEX128",
        "UINT64",
        "RESOURCE",
        "VARIANT",
        "UINT32",
        "UINT16",
        "INT4"
    };

    /** {@code Padding} values. */
    static final int PADDING_SAME = 0;

    static final int PADDING_VALID = 1;

    /** {@code ActivationFunctionType} values. */
    static final int ACT_NONE = 0;

    static final int ACT_RELU = 1;
    static final int ACT_RELU6 = 3;
    private static final String[] ACTIVATION_NAMES = {"NONE", "RELU", "RELU_N1_TO_1", "RELU6", "TANH", "SIGN_BIT"};

    /** {@code BuiltinOptions} union type ids of the option tables read here. */
    static final int OPTIONS_CONV2D = 1;

    static final int OPTIONS_DEPTHWISE_CONV2D = 2;
    static final int OPTIONS_POOL2D = 5;
    static final int OPTIONS_FULLY_CONNECTED = 8;
    static final int OPTIONS_SOFTMAX = 9;
    static final int OPTIONS_ADD = 11;
    static final int OPTIONS_RESHAPE = 17;
    static final int OPTIONS_REDUCER = 27;

    private TfliteSchema() {}

    static String typeName(int type) {
        return type >= 0 && type < TYPE_NAMES.length ? TYPE_NAMES[type] : "type " + type;
    }

    static String activationName(int act) {
        return act >= 0 && act < ACTIVATION_NAMES.length ? ACTIVATION_NAMES[act] : "activation " + act;
    }

    /** {@code table Model}: the root. */
    static final class Model extends FlatTable {
        static Model root(ByteBuffer file) {
            file.order(ByteOrder.LITTLE_ENDIAN);
            Model m = new Model();
            m.init(file.getInt(0), file);
            return m;
        }

        long version() {
            return uint32(0, 0);
        }

        int operatorCodeCount() {
            return length(1);
        }

        OperatorCode operatorCode(int i) {
            return tableAt(1, i, OperatorCode::new);
        }

        int subgraphCount() {
            return length(2);
        }

        SubGraph subgraph(int i) {
            return tableAt(2, i, SubGraph::new);
        }

        String description() {
            return string(3);
        }

        int bufferCount() {
            return length(4);
        }

        Buffer buffer(int i) {
            return tableAt(4, i, Buffer::new);
        }
    }

    /** {@code table OperatorCode}. */
    static final class OperatorCode extends FlatTable {
        /**
         * The builtin operator. Files written before schema 3a carry it in the byte-sized
         * {@code deprecated_builtin_code} (id 0); newer ones also fill the int {@code builtin_code} (id 3) and put
         * 127 (PLACEHOLDER_FOR_GREATER_OP_CODES) in the old field, so the larger of the two is the code.
         */
        int builtinCode() {
            return Math.max(int8(0, 0), int32(3, 0));
        }

        String customCode() {
            return string(1);
        }

        int version() {
            return int32(2, 1);
        }
    }

    /** {@code table SubGraph}. */
    static final class SubGraph extends FlatTable {
        int tensorCount() {
            return length(0);
        }

        Tensor tensor(int i) {
            return tableAt(0, i, Tensor::new);
        }

        int[] inputs() {
            return int32s(1);
        }

        int[] outputs() {
            return int32s(2);
        }

        int operatorCount() {
            return length(3);
        }

        Operator operator(int i) {
            return tableAt(3, i, Operator::new);
        }
    }

    /** {@code table Tensor}. */
    static final class Tensor extends FlatTable {
        int[] shape() {
            return int32s(0);
        }

        int type() {
            return int8(1, FLOAT32);
        }

        long buffer() {
            return uint32(2, 0);
        }

        String name() {
            return string(3);
        }

        Quantization quantization() {
            return table(4, Quantization::new);
        }

        boolean isVariable() {
            return bool(5, false);
        }

        boolean isSparse() {
            return has(6);
        }
    }

    /** {@code table QuantizationParameters}: {@code real = scale * (q - zero_point)}, per channel of one axis. */
    static final class Quantization extends FlatTable {
        float[] scale() {
            return float32s(2);
        }

        long[] zeroPoint() {
            return int64s(3);
        }

        int quantizedDimension() {
            return int32(6, 0);
        }
    }

    /** {@code table Operator}. */
    static final class Operator extends FlatTable {
        long opcodeIndex() {
            return uint32(0, 0);
        }

        /** Tensor indices; -1 marks an omitted optional operand (a convolution without bias). */
        int[] inputs() {
            return int32s(1);
        }

        int[] outputs() {
            return int32s(2);
        }

        int optionsType() {
            return uint8(3, 0);
        }

        /** The builtin options table viewed as {@code view}, or {@code null} when the operator has none. */
        <T extends FlatTable> T options(Supplier<T> view) {
            return table(4, view);
        }
    }

    /**
     * {@code table Buffer}: raw bytes of a constant. Files over 2 GB keep data outside the flatbuffer and give its
     * {@code offset} and {@code size} from the start of the file instead (offset 1 means "none").
     */
    static final class Buffer extends FlatTable {
        ByteBuffer data() {
            return bytes(0);
        }

        long offset() {
            return int64(1, 0);
        }

        long size() {
            return int64(2, 0);
        }
    }

    /** {@code table Conv2DOptions}. */
    static final class Conv2DOptions extends FlatTable {
        int padding() {
            return int8(0, PADDING_SAME);
        }

        int strideW() {
            return int32(1, 0);
        }

        int strideH() {
            return int32(2, 0);
        }

        int activation() {
            return int8(3, ACT_NONE);
        }

        int dilationW() {
            return int32(4, 1);
        }

        int dilationH() {
            return int32(5, 1);
        }
    }

    /** {@code table DepthwiseConv2DOptions}. */
    static final class DepthwiseConv2DOptions extends FlatTable {
        int padding() {
            return int8(0, PADDING_SAME);
        }

        int strideW() {
            return int32(1, 0);
        }

        int strideH() {
            return int32(2, 0);
        }

        int depthMultiplier() {
            return int32(3, 0);
        }

        int activation() {
            return int8(4, ACT_NONE);
        }

        int dilationW() {
            return int32(5, 1);
        }

        int dilationH() {
            return int32(6, 1);
        }
    }

    /** {@code table Pool2DOptions}. */
    static final class Pool2DOptions extends FlatTable {
        int padding() {
            return int8(0, PADDING_SAME);
        }

        int strideW() {
            return int32(1, 0);
        }

        int strideH() {
            return int32(2, 0);
        }

        int filterWidth() {
            return int32(3, 0);
        }

        int filterHeight() {
            return int32(4, 0);
        }

        int activation() {
            return int8(5, ACT_NONE);
        }
    }

    /** {@code table FullyConnectedOptions}. */
    static final class FullyConnectedOptions extends FlatTable {
        int activation() {
            return int8(0, ACT_NONE);
        }

        int weightsFormat() {
            return int8(1, 0);
        }

        boolean keepNumDims() {
            return bool(2, false);
        }
    }

    /** {@code table AddOptions}. */
    static final class AddOptions extends FlatTable {
        int activation() {
            return int8(0, ACT_NONE);
        }
    }

    /** {@code table SoftmaxOptions}. */
    static final class SoftmaxOptions extends FlatTable {
        float beta() {
            return float32(0, 0f);
        }
    }

    /** {@code table ReshapeOptions}. */
    static final class ReshapeOptions extends FlatTable {
        int[] newShape() {
            return int32s(0);
        }
    }

    /** {@code table ReducerOptions} (MEAN, SUM, ...). */
    static final class ReducerOptions extends FlatTable {
        boolean keepDims() {
            return bool(0, false);
        }
    }
}
