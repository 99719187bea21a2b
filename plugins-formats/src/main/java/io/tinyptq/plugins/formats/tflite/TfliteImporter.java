package io.tinyptq.plugins.formats.tflite;

import static io.tinyptq.plugins.formats.tflite.BuiltinOperator.ADD;
import static io.tinyptq.plugins.formats.tflite.BuiltinOperator.AVERAGE_POOL_2D;
import static io.tinyptq.plugins.formats.tflite.BuiltinOperator.CONV_2D;
import static io.tinyptq.plugins.formats.tflite.BuiltinOperator.CUSTOM;
import static io.tinyptq.plugins.formats.tflite.BuiltinOperator.DEPTHWISE_CONV_2D;
import static io.tinyptq.plugins.formats.tflite.BuiltinOperator.DEQUANTIZE;
import static io.tinyptq.plugins.formats.tflite.BuiltinOperator.EXPAND_DIMS;
import static io.tinyptq.plugins.formats.tflite.BuiltinOperator.FULLY_CONNECTED;
import static io.tinyptq.plugins.formats.tflite.BuiltinOperator.MAX_POOL_2D;
import static io.tinyptq.plugins.formats.tflite.BuiltinOperator.MEAN;
import static io.tinyptq.plugins.formats.tflite.BuiltinOperator.PAD;
import static io.tinyptq.plugins.formats.tflite.BuiltinOperator.QUANTIZE;
import static io.tinyptq.plugins.formats.tflite.BuiltinOperator.RELU;
import static io.tinyptq.plugins.formats.tflite.BuiltinOperator.RELU6;
import static io.tinyptq.plugins.formats.tflite.BuiltinOperator.RESHAPE;
import static io.tinyptq.plugins.formats.tflite.BuiltinOperator.SOFTMAX;
import static io.tinyptq.plugins.formats.tflite.BuiltinOperator.SQUEEZE;

import io.tinyptq.api.InvalidModelException;
import io.tinyptq.api.TinyPtqException;
import io.tinyptq.api.integer.ElementType;
import io.tinyptq.api.integer.IntegerModel;
import io.tinyptq.api.integer.TensorQuant;
import io.tinyptq.api.model.Activation;
import io.tinyptq.api.model.Model;
import io.tinyptq.api.model.Op;
import io.tinyptq.api.model.Padding;
import io.tinyptq.api.model.Shape;
import io.tinyptq.api.model.Tensor;
import io.tinyptq.plugins.formats.tflite.TfliteSchema.Operator;
import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Translates the main subgraph of a float TFLite model into the tinyptq IR.
 *
 * <p>Conventions of the translation:
 * <ul>
 *   <li>TFLite shapes carry a leading batch dimension of 1; IR activation shapes are per sample, so it is dropped
 *       ({@code [1,32,32,3]} becomes {@code [32,32,3]}).</li>
 *   <li>Weight layouts carry over unchanged: CONV_2D's OHWI is the IR's {@code [Cout,kh,kw,Cin]};
 *       DEPTHWISE_CONV_2D's {@code [1,kh,kw,Cin*m]} loses its leading 1; FULLY_CONNECTED's {@code [out,in]} is
 *       the IR's. TFLite's SAME padding is TensorFlow's, as is the IR's {@link Padding#SAME}.</li>
 *   <li>Constants stored as integers with a scale and zero point are dequantized on load as TFLite's own
 *       DEQUANTIZE kernel does, {@code real = (float) (scale * (q - zero_point))} with the scale of the element's
 *       channel along {@code quantized_dimension}; float16 constants are widened.</li>
 *   <li>Operators whose operands are all constants and that only re-express a constant (DEQUANTIZE, QUANTIZE,
 *       RESHAPE, EXPAND_DIMS, SQUEEZE) are evaluated at import and vanish from the graph; EXPAND_DIMS and SQUEEZE
 *       of activations are reshapes.</li>
 *   <li>TFLite has no 1-D convolution or pooling; the converter writes Keras' Conv1D (and 1-D pools) as RESHAPE or
 *       EXPAND_DIMS {@code [1,W,C] -> [1,1,W,C]}, a CONV_2D with a 1-row kernel {@code [Cout,1,k,Cin]} (or a
 *       pool with a 1-row window), then RESHAPE or SQUEEZE back to {@code [1,W',C']}. When the intermediate
 *       tensors have no other reader, the three operators become one {@link Op.Conv1D} (weight
 *       {@code [Cout,k,Cin]}, same values) or {@link Op.Pool} over {@code [W,C]}, named after the CONV_2D or
 *       pool.</li>
 *   <li>Each layer keeps a name from the file (see {@link LayerNames}); its output activation tensor has the same
 *       name, and its weight and bias constants are {@code <layer>/kernel} and {@code <layer>/bias}. An all-zero
 *       bias tensor named {@code .../no_bias}, which {@link TfliteWriter} writes for a convolution without bias,
 *       means no bias.</li>
 * </ul>
 * After translation the IR's inferred shape of every layer output is compared with the shape TFLite recorded,
 * so a semantic mismatch (padding, strides) fails at import rather than as a silent accuracy loss.
 */
final class TfliteImporter {
    /** What the importer translates, in the order error messages list it. */
    static final List<String> SUPPORTED = List.of("ADD", "AVERAGE_POOL_2D", "CONV_2D", "DEPTHWISE_CONV_2D",
            "EXPAND_DIMS", "FULLY_CONNECTED", "MAX_POOL_2D", "MEAN", "PAD", "RELU", "RELU6", "RESHAPE", "SOFTMAX",
            "SQUEEZE");
    private static final String FOLDED = "DEQUANTIZE, QUANTIZE, RESHAPE, EXPAND_DIMS and SQUEEZE of constants"
            + " (folded at import)";

    private final Path file;
    private final TfliteFormat.LayerNames naming;
    /** Whether this import builds an {@link IntegerModel} ({@link #readInteger}) rather than a float model. */
    private final boolean integer;
    /** The TFLite tensor each IR activation tensor stands for (integer import: its quantization). */
    private final Map<String, Integer> activationSource = new LinkedHashMap<>();
    /** The TFLite tensor each IR constant was read from (integer import: its stored integers). */
    private final Map<String, Integer> constantSource = new LinkedHashMap<>();
    /** Integer import: the integer quantization of float model inputs and outputs (folded QUANTIZE/DEQUANTIZE). */
    private final Map<String, TensorQuant> boundary = new LinkedHashMap<>();
    /** Integer import: the QUANTIZE operators at the graph inputs, folded into the inputs. */
    private final Set<Integer> boundaryOps = new HashSet<>();
    private final ByteBuffer bytes;
    private final TfliteSchema.Model root;
    private final TfliteSchema.SubGraph graph;
    private final TfliteSchema.Tensor[] tensors;
    /** Constants computed at import (folded operators), by TFLite tensor index. */
    private final Map<Integer, float[]> folded = new HashMap<>();
    /** IR activation tensor name of each TFLite tensor computed at run time. */
    private final Map<Integer, String> activations = new HashMap<>();
    /** TFLite's per-sample shape of each IR activation tensor, checked against the IR after building. */
    private final Map<String, Shape> recordedShapes = new HashMap<>();
    private final Set<String> names = new HashSet<>();
    private final Model.Builder builder;
    /** 1-D layers found by {@link #findOneDimensional()}, by the index of their CONV_2D or pool operator. */
    private final Map<Integer, OneD> oneD = new HashMap<>();
    /** Indices of the reshapes around a 1-D layer: translated as part of it. */
    private final Set<Integer> absorbed = new HashSet<>();

    /**
     * A 1-row CONV_2D or pool between reshapes that is a 1-D layer: {@code input} {@code [1,W,C]} is what the
     * reshape before it reads, {@code output} {@code [1,W',C']} what the reshape after it writes.
     */
    private record OneD(int input, int output) {
    }

    private TfliteImporter(Path file, byte[] data, TfliteFormat.LayerNames naming, boolean integer) {
        this.file = file;
        this.naming = naming;
        this.integer = integer;
        this.bytes = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        this.root = TfliteSchema.Model.root(bytes);
        if (root.version() != TfliteSchema.VERSION) {
            throw new InvalidModelException(file + ": TFLite schema version " + root.version() + "; tinyptq reads version "
                    + TfliteSchema.VERSION);
        }
        if (root.subgraphCount() == 0) {
            throw new InvalidModelException(file + ": the TFLite model has no subgraph");
        }
        // Touch every buffer, as TFLite's verifier does: the first ones written (buffer 0 among them) lie at the
        // very end of the file, so this is what notices a file cut short behind the graph.
        for (int i = 0; i < root.bufferCount(); i++) {
            root.buffer(i).data();
        }
        this.graph = root.subgraph(0);
        this.tensors = new TfliteSchema.Tensor[graph.tensorCount()];
        for (int i = 0; i < tensors.length; i++) {
            tensors[i] = graph.tensor(i);
        }
        String stem = file.getFileName().toString().replaceFirst("\\.tflite$", "");
        this.builder = Model.builder(stem);
    }

    /** Reads {@code file}; every problem is an {@link InvalidModelException} (or {@link TinyPtqException} for I/O). */
    static Model read(Path file, TfliteFormat.LayerNames naming) {
        return parse(file, naming, false, imp -> {
            String integerTensor = imp.integerActivation();
            if (integerTensor != null) {
                throw new InvalidModelException(file + " is a fully-integer TFLite model (" + integerTensor
                        + "); it is not imported as a float model: 'tinyptq eval' runs it through the integer"
                        + " runtime (plugin kind 'integer'), and 'tinyptq info' shows its stored sizes");
            }
            return imp.translate();
        });
    }

    /**
     * Whether {@code file} holds a fully-integer model: a graph input, or the output of an operator that reads a
     * computed tensor (a QUANTIZE at the input included), has type INT8, UINT8 or INT16.
     */
    static boolean isInteger(Path file) {
        return parse(file, TfliteFormat.LayerNames.KERAS, true, imp -> imp.integerActivation() != null);
    }

    /**
     * Reads a fully-integer file as an {@link IntegerModel}: the graph as {@link #read} builds it (constants
     * dequantized), every tensor's quantization, every constant's stored integers (INT4 unpacked), and the
     * integer quantization of float inputs and outputs whose QUANTIZE / DEQUANTIZE operators are folded away.
     */
    static IntegerModel readInteger(Path file, TfliteFormat.LayerNames naming) {
        return parse(file, naming, true, imp -> {
            if (imp.integerActivation() == null) {
                throw new InvalidModelException(file + " is a float TFLite model (FLOAT32 activations), not a"
                        + " fully-integer one; it is read as a float model");
            }
            return imp.translateInteger();
        });
    }

    /** Largest file read: flatbuffer offsets are 32-bit signed. */
    static final long MAX_FILE_BYTES = Integer.MAX_VALUE;

    private static <T> T parse(Path file, TfliteFormat.LayerNames naming, boolean integer,
                               java.util.function.Function<TfliteImporter, T> action) {
        byte[] data;
        try {
            // Checked before reading: a flatbuffer addresses at most 2 GiB, and reading more would end in an
            // OutOfMemoryError instead of a message.
            long size = Files.size(file);
            if (size > MAX_FILE_BYTES) {
                throw new InvalidModelException(file + " holds " + size + " bytes; a TFLite flatbuffer holds at most "
                        + MAX_FILE_BYTES + " (2 GiB), and tinyML models a few MiB");
            }
            data = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new TinyPtqException("model file " + file + " does not exist");
        } catch (IOException e) {
            throw new TinyPtqException("cannot read model file " + file + ": " + e.getMessage(), e);
        }
        if (data.length < 8) {
            throw new InvalidModelException(file + " is not a TFLite model: it has " + data.length
                    + " bytes, fewer than a flatbuffer header (8)");
        }
        String ident = new String(data, 4, 4, StandardCharsets.ISO_8859_1);
        if (!ident.equals(TfliteSchema.IDENTIFIER)) {
            throw new InvalidModelException(file + " is not a TFLite model: bytes 4..7 hold '" + printable(ident)
                    + "' where a TFLite flatbuffer has its identifier '" + TfliteSchema.IDENTIFIER + "'");
        }
        try {
            return action.apply(new TfliteImporter(file, data, naming, integer));
        } catch (CorruptFlatBufferException | IndexOutOfBoundsException | BufferUnderflowException e) {
            // flatbuffers-java follows offsets without checking them; any read outside the file lands here.
            throw new InvalidModelException(file + " is truncated or corrupt (" + data.length + " bytes): "
                    + e.getMessage());
        } catch (IllegalArgumentException e) {
            // The IR's own argument checks (names, strides, shape sizes) rejecting values read from the file.
            throw new InvalidModelException(file + ": the graph cannot be represented: " + e.getMessage());
        }
    }

    private static String printable(String s) {
        StringBuilder b = new StringBuilder();
        for (char c : s.toCharArray()) {
            b.append(c >= 0x20 && c < 0x7f ? String.valueOf(c) : String.format("\\x%02x", (int) c));
        }
        return b.toString();
    }

    private Model translate() {
        findOneDimensional();
        for (int in : graph.inputs()) {
            checkIndex(in, "graph input");
            String name = unique(tensorName(in, "input"));
            Shape shape = activationShape(in, "graph input '" + name + "'");
            builder.input(name, shape);
            activations.put(in, name);
            activationSource.put(name, in);
            if (integer && tensors[in].type() == TfliteSchema.FLOAT32) {
                quantizeAtInput(in, name);
            }
        }
        for (int k = 0; k < graph.operatorCount(); k++) {
            translate(k, graph.operator(k));
        }
        for (int out : graph.outputs()) {
            checkIndex(out, "graph output");
            builder.output(activation(out, "graph output"));
        }
        Model model = builder.build();
        for (var e : recordedShapes.entrySet()) {
            Shape ir = model.shape(e.getKey());
            if (!ir.equals(e.getValue())) {
                Op op = model.producer(e.getKey()).orElseThrow();
                throw new InvalidModelException(file + ": layer '" + op.name() + "' (" + op.type()
                        + ") computes shape " + ir + " in tinyptq but the file records " + e.getValue()
                        + " (per sample); the operator's semantics differ from what the importer assumes");
            }
        }
        return model;
    }

    private void translate(int index, Operator op) {
        long opcodeIndex = op.opcodeIndex();
        if (opcodeIndex >= root.operatorCodeCount()) {
            throw new InvalidModelException(file + ": operator " + index + " refers to operator code " + opcodeIndex
                    + " but the file defines " + root.operatorCodeCount());
        }
        TfliteSchema.OperatorCode opcode = root.operatorCode((int) opcodeIndex);
        int code = opcode.builtinCode();
        int[] in = op.inputs();
        int[] out = op.outputs();
        for (int t : in) {
            if (t != -1) {
                checkIndex(t, "operator " + index + " input");
            }
        }
        for (int t : out) {
            checkIndex(t, "operator " + index + " output");
        }
        if (absorbed.contains(index) || boundaryOps.contains(index)) {
            return;
        }
        if (integer && (code == DEQUANTIZE || code == QUANTIZE) && in.length >= 1 && !isConstant(in[0])) {
            if (code == DEQUANTIZE) {
                dequantizeAtOutput(index, in, out);
                return;
            }
            throw new InvalidModelException(file + ": operator " + index + " applies QUANTIZE to the computed tensor '"
                    + tensorName(in[0], "?") + "' (" + TfliteSchema.typeName(tensors[in[0]].type()) + " to "
                    + (out.length == 1 ? TfliteSchema.typeName(tensors[out[0]].type()) : "?") + ") inside the graph;"
                    + " integer import folds QUANTIZE only where it quantizes a float graph input");
        }
        OpContext c = new OpContext(index, code, op, in, out);
        if (code == CUSTOM) {
            throw unsupported(index, "CUSTOM operator '" + opcode.customCode() + "'");
        }
        if ((code == DEQUANTIZE || code == QUANTIZE || code == RESHAPE || code == EXPAND_DIMS || code == SQUEEZE)
                && in.length >= 1 && isConstant(in[0])) {
            fold(c);
            return;
        }
        OneD oned = oneD.get(index);
        if (oned != null) {
            switch (code) {
                case CONV_2D -> conv1d(c, oned);
                default -> pool1d(c, oned);
            }
            return;
        }
        switch (code) {
            case CONV_2D -> conv2d(c);
            case DEPTHWISE_CONV_2D -> depthwise(c);
            case FULLY_CONNECTED -> fullyConnected(c);
            case ADD -> add(c);
            case AVERAGE_POOL_2D, MAX_POOL_2D -> pool(c);
            case MEAN -> mean(c);
            case PAD -> pad(c);
            case RESHAPE, EXPAND_DIMS, SQUEEZE -> reshape(c);
            case SOFTMAX -> softmax(c);
            case RELU, RELU6 -> activationOp(c);
            case DEQUANTIZE, QUANTIZE -> throw new InvalidModelException(c.where() + " applies "
                    + BuiltinOperator.name(code) + " to the computed tensor '" + tensorName(in[0], "?")
                    + "': quantized activations are not supported; tinyptq imports float models and quantizes them"
                    + " itself");
            default -> throw unsupported(index, BuiltinOperator.name(code) + " (builtin code " + code + ")");
        }
    }

    private InvalidModelException unsupported(int index, String what) {
        return new InvalidModelException(file + ": operator " + index + " is " + what
                + ", which tinyptq does not import; supported operators: " + String.join(", ", SUPPORTED)
                + ", and " + FOLDED);
    }

    /** One operator being translated: its position, code, operands and the layer name it will get. */
    private final class OpContext {
        final int index;
        final int code;
        final Operator op;
        final int[] in;
        final int[] out;
        final String layer;

        OpContext(int index, int code, Operator op, int[] in, int[] out) {
            this.index = index;
            this.code = code;
            this.op = op;
            this.in = in;
            this.out = out;
            if (out.length != 1) {
                throw new InvalidModelException(where(BuiltinOperator.name(code)) + " has " + out.length
                        + " outputs; tinyptq imports operators with one output");
            }
            this.layer = unique(LayerNames.derive(tensorName(out[0], BuiltinOperator.name(code).toLowerCase()
                    + "_" + index), code, naming));
        }

        String where() {
            return file + ": operator " + index + " (" + BuiltinOperator.name(code) + ", layer '" + layer + "')";
        }

        private String where(String opName) {
            return file + ": operator " + index + " (" + opName + ")";
        }

        /** Operand {@code i}, or -1 when the operator has fewer operands or marks it omitted. */
        int input(int i) {
            return i < in.length ? in[i] : -1;
        }

        int requireInputs(int min) {
            if (in.length < min) {
                throw new InvalidModelException(where() + " has " + in.length + " inputs, expected at least " + min);
            }
            return in.length;
        }

        <T extends FlatTable> T options(int type, Supplier<T> view) {
            int found = op.optionsType();
            if (found != 0 && found != type) {
                throw new InvalidModelException(where() + " carries builtin options of union type " + found
                        + ", expected " + type);
            }
            return found == 0 ? null : op.options(view);
        }

        /** Registers this layer's output as an activation tensor named after the layer. */
        String output() {
            return output(out[0]);
        }

        /** Registers TFLite tensor {@code tensor} (the end of a 1-D layer's pattern) as this layer's output. */
        String output(int tensor) {
            String name = layer;
            Shape recorded = activationShape(tensor, "output of " + where());
            activations.put(tensor, name);
            activationSource.put(name, tensor);
            recordedShapes.put(name, recorded);
            return name;
        }
    }

    private void conv2d(OpContext c) {
        c.requireInputs(2);
        TfliteSchema.Conv2DOptions o = c.options(TfliteSchema.OPTIONS_CONV2D, TfliteSchema.Conv2DOptions::new);
        if (o == null) {
            throw new InvalidModelException(c.where() + " has no Conv2DOptions");
        }
        requireNoDilation(c, o.dilationH(), o.dilationW());
        String x = activation(c.in[0], c.where());
        Shape w = constantShape(c.in[1], 4, c, "weight");
        String weight = constant(c, c.in[1], "kernel", w);
        String bias = bias(c, c.input(2), w.dim(0));
        builder.op(new Op.Conv2D(c.layer, x, weight, bias, c.output(), stride(c, o.strideH()), stride(c, o.strideW()),
                padding(c, o.padding()), fused(c, o.activation())));
    }

    /**
     * Finds the converter's 1-D layers: RESHAPE or EXPAND_DIMS {@code [1,W,C] -> [1,1,W,C]} read only by a CONV_2D
     * with a 1-row kernel, or an AVERAGE_POOL_2D / MAX_POOL_2D with a 1-row window, whose {@code [1,1,W',C']} output
     * is read only by a RESHAPE or SQUEEZE to {@code [1,W',C']}. Anything else is translated operator by operator.
     */
    private void findOneDimensional() {
        int n = graph.operatorCount();
        int[] codes = new int[n];
        int[][] ins = new int[n][];
        int[][] outs = new int[n][];
        Map<Integer, List<Integer>> readers = new HashMap<>();
        for (int k = 0; k < n; k++) {
            Operator op = graph.operator(k);
            long opcodeIndex = op.opcodeIndex();
            codes[k] = opcodeIndex < root.operatorCodeCount() ? root.operatorCode((int) opcodeIndex).builtinCode() : -1;
            ins[k] = op.inputs();
            outs[k] = op.outputs();
            for (int t : ins[k]) {
                readers.computeIfAbsent(t, x -> new ArrayList<>()).add(k);
            }
        }
        for (int t : graph.outputs()) {
            readers.computeIfAbsent(t, x -> new ArrayList<>()).add(-1);
        }
        for (int k = 0; k < n; k++) {
            if ((codes[k] != RESHAPE && codes[k] != EXPAND_DIMS) || ins[k].length < 1 || outs[k].length != 1
                    || !validTensor(ins[k][0]) || !validTensor(outs[k][0])) {
                continue;
            }
            int[] x = tensors[ins[k][0]].shape();
            int[] rows = tensors[outs[k][0]].shape();
            if (x.length != 3 || x[0] != 1 || !Arrays.equals(rows, new int[] {1, 1, x[1], x[2]})) {
                continue;
            }
            int j = soleReader(readers, outs[k][0]);
            if (j <= k || ins[j].length < 1 || ins[j][0] != outs[k][0] || outs[j].length != 1
                    || !validTensor(outs[j][0]) || !oneRow(codes[j], ins[j], graph.operator(j))) {
                continue;
            }
            int[] y = tensors[outs[j][0]].shape();
            int l = soleReader(readers, outs[j][0]);
            if (y.length != 4 || y[0] != 1 || y[1] != 1 || l <= j || (codes[l] != RESHAPE && codes[l] != SQUEEZE)
                    || ins[l].length < 1 || ins[l][0] != outs[j][0] || outs[l].length != 1 || !validTensor(outs[l][0])
                    || !Arrays.equals(tensors[outs[l][0]].shape(), new int[] {1, y[2], y[3]})) {
                continue;
            }
            oneD.put(j, new OneD(ins[k][0], outs[l][0]));
            absorbed.add(k);
            absorbed.add(l);
        }
    }

    private boolean validTensor(int t) {
        return t >= 0 && t < tensors.length;
    }

    /** The one operator reading {@code tensor}, or -1 when none, several, or the graph's outputs read it. */
    private static int soleReader(Map<Integer, List<Integer>> readers, int tensor) {
        List<Integer> r = readers.getOrDefault(tensor, List.of());
        return r.size() == 1 ? r.get(0) : -1;
    }

    /** A CONV_2D with a 1-row kernel, or a pool with a 1-row window and row stride 1. */
    private boolean oneRow(int code, int[] in, Operator op) {
        if (code == CONV_2D) {
            return in.length >= 2 && validTensor(in[1]) && tensors[in[1]].shape().length == 4
                    && tensors[in[1]].shape()[1] == 1;
        }
        if (code == AVERAGE_POOL_2D || code == MAX_POOL_2D) {
            TfliteSchema.Pool2DOptions o = op.optionsType() == TfliteSchema.OPTIONS_POOL2D
                    ? op.options(TfliteSchema.Pool2DOptions::new) : null;
            return o != null && o.filterHeight() == 1 && o.strideH() == 1;
        }
        return false;
    }

    /** A CONV_2D with a 1-row kernel between reshapes: the IR's {@link Op.Conv1D}. */
    private void conv1d(OpContext c, OneD p) {
        c.requireInputs(2);
        TfliteSchema.Conv2DOptions o = c.options(TfliteSchema.OPTIONS_CONV2D, TfliteSchema.Conv2DOptions::new);
        if (o == null) {
            throw new InvalidModelException(c.where() + " has no Conv2DOptions");
        }
        requireNoDilation(c, o.dilationH(), o.dilationW());
        String x = activation(p.input(), c.where());
        Shape w4 = constantShape(c.in[1], 4, c, "weight");
        // [Cout,1,k,Cin] without its row axis is the IR's [Cout,k,Cin]; the values keep their order.
        Shape w = Shape.of(w4.dim(0), w4.dim(2), w4.dim(3));
        String weight = constant(c, c.in[1], "kernel", w);
        String bias = bias(c, c.input(2), w.dim(0));
        builder.op(new Op.Conv1D(c.layer, x, weight, bias, c.output(p.output()), stride(c, o.strideW()),
                padding(c, o.padding()), fused(c, o.activation())));
    }

    /** A pool with a 1-row window between reshapes: the IR's {@link Op.Pool} over {@code [W,C]}. */
    private void pool1d(OpContext c, OneD p) {
        c.requireInputs(1);
        TfliteSchema.Pool2DOptions o = c.options(TfliteSchema.OPTIONS_POOL2D, TfliteSchema.Pool2DOptions::new);
        String x = activation(p.input(), c.where());
        int kw = o.filterWidth();
        if (kw <= 0) {
            throw new InvalidModelException(c.where() + ": pooling window 1x" + kw + " must be positive");
        }
        Op.PoolKind kind = c.code == AVERAGE_POOL_2D ? Op.PoolKind.AVG : Op.PoolKind.MAX;
        builder.op(new Op.Pool(c.layer, x, c.output(p.output()), kind, 1, kw, 1, stride(c, o.strideW()),
                padding(c, o.padding()), fused(c, o.activation())));
    }

    private void depthwise(OpContext c) {
        c.requireInputs(2);
        TfliteSchema.DepthwiseConv2DOptions o = c.options(TfliteSchema.OPTIONS_DEPTHWISE_CONV2D,
                TfliteSchema.DepthwiseConv2DOptions::new);
        if (o == null) {
            throw new InvalidModelException(c.where() + " has no DepthwiseConv2DOptions");
        }
        requireNoDilation(c, o.dilationH(), o.dilationW());
        String x = activation(c.in[0], c.where());
        Shape w4 = constantShape(c.in[1], 4, c, "weight");
        if (w4.dim(0) != 1) {
            throw new InvalidModelException(c.where() + ": depthwise weight has shape " + w4 + ", expected [1,kh,kw,C*m]");
        }
        // TFLite's 1HWO without the leading 1 is the IR's [kh,kw,Cin*m]; the values keep their order.
        Shape w = Shape.of(w4.dim(1), w4.dim(2), w4.dim(3));
        int cin = activationShape(c.in[0], c.where()).dim(-1);
        if (w.dim(2) % cin != 0) {
            throw new InvalidModelException(c.where() + ": depthwise weight has " + w.dim(2)
                    + " output channels, not a multiple of the " + cin + " input channels");
        }
        int multiplier = w.dim(2) / cin;
        if (o.depthMultiplier() != 0 && o.depthMultiplier() != multiplier) {
            throw new InvalidModelException(c.where() + ": depth_multiplier " + o.depthMultiplier()
                    + " disagrees with the weight shape " + w4 + " on " + cin + " input channels");
        }
        String weight = constant(c, c.in[1], "kernel", w);
        String bias = bias(c, c.input(2), w.dim(2));
        builder.op(new Op.DepthwiseConv2D(c.layer, x, weight, bias, c.output(), stride(c, o.strideH()),
                stride(c, o.strideW()), padding(c, o.padding()), multiplier, fused(c, o.activation())));
    }

    private void fullyConnected(OpContext c) {
        c.requireInputs(2);
        TfliteSchema.FullyConnectedOptions o = c.options(TfliteSchema.OPTIONS_FULLY_CONNECTED,
                TfliteSchema.FullyConnectedOptions::new);
        int act = o == null ? TfliteSchema.ACT_NONE : o.activation();
        if (o != null && o.weightsFormat() != 0) {
            throw new InvalidModelException(c.where() + ": weights_format " + o.weightsFormat()
                    + " (shuffled int8) is not supported; only DEFAULT");
        }
        String x = activation(c.in[0], c.where());
        Shape w = constantShape(c.in[1], 2, c, "weight");
        String weight = constant(c, c.in[1], "kernel", w);
        String bias = bias(c, c.input(2), w.dim(0));
        String out = c.output();
        if (o != null && o.keepNumDims() && recordedShapes.get(out).rank() != 1) {
            throw new InvalidModelException(c.where() + ": keep_num_dims on a rank-" + (recordedShapes.get(out).rank() + 1)
                    + " output is not supported");
        }
        builder.op(new Op.FullyConnected(c.layer, x, weight, bias, out, fused(c, act)));
    }

    private void add(OpContext c) {
        c.requireInputs(2);
        for (int i = 0; i < 2; i++) {
            if (isConstant(c.in[i])) {
                throw new InvalidModelException(c.where() + ": operand " + i + " '" + tensorName(c.in[i], "?")
                        + "' is a constant; tinyptq imports ADD of two computed tensors (a residual join) only");
            }
        }
        TfliteSchema.AddOptions o = c.options(TfliteSchema.OPTIONS_ADD, TfliteSchema.AddOptions::new);
        int act = o == null ? TfliteSchema.ACT_NONE : o.activation();
        String a = activation(c.in[0], c.where());
        String b = activation(c.in[1], c.where());
        builder.op(new Op.Add(c.layer, a, b, c.output(), fused(c, act)));
    }

    private void pool(OpContext c) {
        c.requireInputs(1);
        TfliteSchema.Pool2DOptions o = c.options(TfliteSchema.OPTIONS_POOL2D, TfliteSchema.Pool2DOptions::new);
        if (o == null) {
            throw new InvalidModelException(c.where() + " has no Pool2DOptions");
        }
        String x = activation(c.in[0], c.where());
        int kh = o.filterHeight();
        int kw = o.filterWidth();
        if (kh <= 0 || kw <= 0) {
            throw new InvalidModelException(c.where() + ": pooling window " + kh + "x" + kw + " must be positive");
        }
        Op.PoolKind kind = c.code == AVERAGE_POOL_2D ? Op.PoolKind.AVG : Op.PoolKind.MAX;
        builder.op(new Op.Pool(c.layer, x, c.output(), kind, kh, kw, stride(c, o.strideH()), stride(c, o.strideW()),
                padding(c, o.padding()), fused(c, o.activation())));
    }

    private void mean(OpContext c) {
        c.requireInputs(2);
        String x = activation(c.in[0], c.where());
        Shape in = activationShape(c.in[0], c.where());
        long[] axes = integers(c.in[1], c, "axes");
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
            String reduced = unique(c.layer + "/mean");
            // The intermediate has the output's quantization: TFLite's MEAN requantizes straight to it.
            activationSource.put(reduced, c.out[0]);
            builder.op(new Op.Mean(reduced, x, reduced));
            String out = c.output();
            builder.op(new Op.Reshape(c.layer, reduced, out, recordedShapes.get(out)));
        } else {
            builder.op(new Op.Mean(c.layer, x, c.output()));
        }
    }

    private void pad(OpContext c) {
        c.requireInputs(2);
        String x = activation(c.in[0], c.where());
        int rank = activationShape(c.in[0], c.where()).rank();
        long[] p = integers(c.in[1], c, "paddings");
        if (p.length != 2 * (rank + 1)) {
            throw new InvalidModelException(c.where() + ": paddings hold " + p.length + " values, expected "
                    + 2 * (rank + 1) + " ([rank,2] with the batch axis)");
        }
        if (p[0] != 0 || p[1] != 0) {
            throw new InvalidModelException(c.where() + ": padding the batch axis (" + p[0] + ", " + p[1]
                    + ") is not supported");
        }
        int[] before = new int[rank];
        int[] after = new int[rank];
        for (int i = 0; i < rank; i++) {
            before[i] = nonNegative(c, p[2 * (i + 1)]);
            after[i] = nonNegative(c, p[2 * (i + 1) + 1]);
        }
        builder.op(new Op.Pad(c.layer, x, c.output(), before, after));
    }

    private void reshape(OpContext c) {
        c.requireInputs(1);
        String x = activation(c.in[0], c.where());
        String out = c.output();
        builder.op(new Op.Reshape(c.layer, x, out, recordedShapes.get(out)));
    }

    private void softmax(OpContext c) {
        c.requireInputs(1);
        TfliteSchema.SoftmaxOptions o = c.options(TfliteSchema.OPTIONS_SOFTMAX, TfliteSchema.SoftmaxOptions::new);
        // A missing options table is taken as the plain softmax the converter always writes, beta = 1.
        float beta = o == null ? 1f : o.beta();
        if (beta != 1f) {
            throw new InvalidModelException(c.where() + ": SOFTMAX with beta " + beta
                    + " is not supported; only beta = 1");
        }
        String x = activation(c.in[0], c.where());
        builder.op(new Op.Softmax(c.layer, x, c.output()));
    }

    private void activationOp(OpContext c) {
        c.requireInputs(1);
        String x = activation(c.in[0], c.where());
        builder.op(new Op.Act(c.layer, x, c.output(), c.code == RELU ? Activation.RELU : Activation.RELU6));
    }

    /**
     * Evaluates DEQUANTIZE, QUANTIZE, RESHAPE, EXPAND_DIMS or SQUEEZE of a constant; the result is a constant for
     * later operators.
     */
    private void fold(OpContext c) {
        float[] values = constantValues(c.in[0], c);
        TfliteSchema.Tensor out = tensors[c.out[0]];
        if (c.code == QUANTIZE) {
            // Round to the output's integer grid and back: the value later operators would see.
            TfliteSchema.Quantization q = out.quantization();
            float[] scale = q == null ? new float[0] : q.scale();
            if (scale.length != 1) {
                throw new InvalidModelException(c.where() + ": QUANTIZE of a constant needs one output scale, found "
                        + scale.length);
            }
            long[] zp = q.zeroPoint();
            long zero = zp.length == 0 ? 0 : zp[0];
            long[] range = integerRange(out.type(), c);
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
            throw new InvalidModelException(c.where() + ": folding gives " + values.length + " values but output '"
                    + tensorName(c.out[0], "?") + "' has shape " + Arrays.toString(out.shape()));
        }
        folded.put(c.out[0], values);
    }

    private static long[] integerRange(int type, OpContext c) {
        return switch (type) {
            case TfliteSchema.INT8 -> new long[] {-128, 127};
            case TfliteSchema.UINT8 -> new long[] {0, 255};
            case TfliteSchema.INT16 -> new long[] {-32768, 32767};
            case TfliteSchema.INT32 -> new long[] {Integer.MIN_VALUE, Integer.MAX_VALUE};
            default -> throw new InvalidModelException(c.where() + ": QUANTIZE to " + TfliteSchema.typeName(type)
                    + " is not supported");
        };
    }

    /**
     * Folds the QUANTIZE that converts float graph input {@code in} to the integer tensor the graph computes with:
     * the IR input stands for both, and {@link #boundary} records the quantization applied.
     */
    private void quantizeAtInput(int in, String name) {
        List<Integer> readers = new ArrayList<>();
        for (int k = 0; k < graph.operatorCount(); k++) {
            if (contains(graph.operator(k).inputs(), in)) {
                readers.add(k);
            }
        }
        String where = file + ": the float graph input '" + name + "'";
        if (readers.size() != 1) {
            throw new InvalidModelException(where + " is read by " + readers.size() + " operators; a fully-integer"
                    + " model quantizes a float input with exactly one QUANTIZE");
        }
        int k = readers.getFirst();
        Operator op = graph.operator(k);
        long opcode = op.opcodeIndex();
        int code = opcode < root.operatorCodeCount() ? root.operatorCode((int) opcode).builtinCode() : -1;
        int[] out = op.outputs();
        if (code != QUANTIZE || out.length != 1 || !validTensor(out[0])) {
            throw new InvalidModelException(where + " is read by operator " + k + " (" + BuiltinOperator.name(code)
                    + "); a fully-integer model quantizes a float input with one QUANTIZE before anything else");
        }
        int q = out[0];
        if (!Arrays.equals(tensors[q].shape(), tensors[in].shape())) {
            throw new InvalidModelException(where + " has shape " + Arrays.toString(tensors[in].shape())
                    + " but its QUANTIZE writes " + Arrays.toString(tensors[q].shape()));
        }
        activationShape(q, "the QUANTIZE output of graph input '" + name + "'");
        TensorQuant quant = tensorQuant(q, null);
        if (quant.perChannel()) {
            throw new InvalidModelException(where + " is quantized per channel; tinyptq reads per-tensor activations");
        }
        activations.put(q, name);
        boundary.put(name, quant);
        boundaryOps.add(k);
    }

    /** IR output tensors a folded DEQUANTIZE turns into float outputs, with the integer tensor it dequantizes. */
    private final Map<String, Integer> floatOutputs = new LinkedHashMap<>();

    /** Folds a DEQUANTIZE of a computed tensor into a float graph output. */
    private void dequantizeAtOutput(int index, int[] in, int[] out) {
        String where = file + ": operator " + index + " (DEQUANTIZE of '" + tensorName(in[0], "?") + "')";
        if (out.length != 1 || !contains(graph.outputs(), out[0])) {
            throw new InvalidModelException(where + " dequantizes inside the graph; a fully-integer model"
                    + " dequantizes only into its float outputs");
        }
        int readers = contains(graph.outputs(), in[0]) ? 1 : 0;
        for (int k = 0; k < graph.operatorCount(); k++) {
            if (k != index && contains(graph.operator(k).inputs(), in[0])) {
                readers++;
            }
        }
        if (readers != 0) {
            throw new InvalidModelException(where + ": the integer tensor is also read elsewhere; tinyptq folds a"
                    + " DEQUANTIZE only when it is the integer tensor's sole reader");
        }
        if (tensors[out[0]].type() != TfliteSchema.FLOAT32) {
            throw new InvalidModelException(where + " writes " + TfliteSchema.typeName(tensors[out[0]].type())
                    + ", expected FLOAT32");
        }
        String name = activation(in[0], where);
        if (!Arrays.equals(tensors[out[0]].shape(), tensors[in[0]].shape())) {
            throw new InvalidModelException(where + " changes the shape " + Arrays.toString(tensors[in[0]].shape())
                    + " to " + Arrays.toString(tensors[out[0]].shape()));
        }
        activations.put(out[0], name);
        floatOutputs.put(name, in[0]);
    }

    /** The graph as {@link #translate} builds it, with every tensor's quantization and every constant's integers. */
    private IntegerModel translateInteger() {
        Model model = translate();
        Map<String, TensorQuant> quant = new LinkedHashMap<>();
        for (String t : model.activationShapes().keySet()) {
            Integer src = activationSource.get(t);
            if (src == null) {
                throw new IllegalStateException("no TFLite tensor recorded for IR tensor '" + t + "'");
            }
            quant.put(t, tensorQuant(src, null));
        }
        Map<String, TensorQuant> bounds = new LinkedHashMap<>(boundary);
        for (var e : floatOutputs.entrySet()) {
            TensorQuant q = tensorQuant(e.getValue(), null);
            if (q.perChannel()) {
                throw new InvalidModelException(file + ": output '" + e.getKey() + "' is quantized per channel;"
                        + " tinyptq reads per-tensor activations");
            }
            quant.put(e.getKey(), TensorQuant.float32());
            bounds.put(e.getKey(), q);
        }
        Map<String, int[]> values = new LinkedHashMap<>();
        for (var e : constantSource.entrySet()) {
            quant.put(e.getKey(), tensorQuant(e.getValue(), model.constant(e.getKey()).shape()));
            values.put(e.getKey(), storedIntegers(e.getValue()));
        }
        return new IntegerModel(model, quant, values, bounds);
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
            if (in.length == 0 || !validTensor(in[0]) || constantBytes(in[0]) != null) {
                continue;
            }
            for (int out : op.outputs()) {
                if (validTensor(out) && integerActivationType(tensors[out].type())) {
                    long opcode = op.opcodeIndex();
                    int code = opcode < root.operatorCodeCount() ? root.operatorCode((int) opcode).builtinCode() : -1;
                    return "operator " + k + " (" + BuiltinOperator.name(code) + ") computes the "
                            + TfliteSchema.typeName(tensors[out].type()) + " tensor '" + tensorName(out, "#" + out) + "'";
                }
            }
        }
        return null;
    }

    private static boolean integerActivationType(int type) {
        return type == TfliteSchema.INT8 || type == TfliteSchema.UINT8 || type == TfliteSchema.INT16;
    }

    private static boolean integerType(int type) {
        return type == TfliteSchema.INT8 || type == TfliteSchema.INT16 || type == TfliteSchema.INT32
                || type == TfliteSchema.INT4;
    }

    private static boolean contains(int[] v, int x) {
        for (int e : v) {
            if (e == x) {
                return true;
            }
        }
        return false;
    }

    /**
     * The {@link TensorQuant} of TFLite tensor {@code tensor}. A per-channel axis is given in the IR layout: for a
     * constant of IR shape {@code ir} the axis with as many channels and the same elements after it as TFLite's
     * {@code quantized_dimension} (a depthwise weight loses its leading 1); for an activation ({@code ir == null})
     * the axis without the batch dimension.
     */
    private TensorQuant tensorQuant(int tensor, Shape ir) {
        TfliteSchema.Tensor t = tensors[tensor];
        String name = tensorName(tensor, "#" + tensor);
        ElementType type = switch (t.type()) {
            case TfliteSchema.FLOAT32 -> ElementType.FLOAT32;
            case TfliteSchema.INT4 -> ElementType.INT4;
            case TfliteSchema.INT8 -> ElementType.INT8;
            case TfliteSchema.INT16 -> ElementType.INT16;
            case TfliteSchema.INT32 -> ElementType.INT32;
            default -> throw new InvalidModelException(file + ": tensor '" + name + "' has type "
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
            throw new InvalidModelException(file + ": tensor '" + name + "' has " + scale.length + " scales but "
                    + zp.length + " zero points");
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
                    throw new InvalidModelException(file + ": tensor '" + name + "' is quantized along dimension "
                            + qd + " of " + Arrays.toString(dims) + ", which its IR shape " + ir + " does not keep");
                }
            }
        }
        try {
            return new TensorQuant(type, scale, zero, axis);
        } catch (IllegalArgumentException e) {
            throw new InvalidModelException(file + ": tensor '" + name + "': " + e.getMessage());
        }
    }

    /** The integers a constant tensor stores, INT4 unpacked, in the order of its elements. */
    private int[] storedIntegers(int tensor) {
        TfliteSchema.Tensor t = tensors[tensor];
        ByteBuffer data = constantBytes(tensor);
        int n = elementCount(t.shape());
        long[] q = t.type() == TfliteSchema.INT4 ? int4s(data, n) : integers(data, t.type(), n);
        int[] v = new int[n];
        for (int i = 0; i < n; i++) {
            v[i] = (int) q[i];
        }
        return v;
    }

    private void requireNoDilation(OpContext c, int dh, int dw) {
        if (dh != 1 || dw != 1) {
            throw new InvalidModelException(c.where() + ": dilation " + dh + "x" + dw
                    + " is not supported; only 1x1");
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
            default -> throw new InvalidModelException(c.where() + ": fused activation "
                    + TfliteSchema.activationName(act) + " is not supported; supported: NONE, RELU, RELU6");
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
        Shape b = constantShape(tensor, 1, c, "bias");
        if (b.dim(0) != channels) {
            throw new InvalidModelException(c.where() + ": bias has shape " + b + ", expected [" + channels + "]");
        }
        if (tensorName(tensor, "").endsWith("/" + TfliteWriter.NO_BIAS) && allPositiveZero(constantValues(tensor, c))) {
            return null;
        }
        return constant(c, tensor, "bias", b);
    }

    private static boolean allPositiveZero(float[] v) {
        for (float x : v) {
            if (Float.floatToRawIntBits(x) != 0) {
                return false;
            }
        }
        return true;
    }

    /** Adds constant {@code tensor} as {@code <layer>/<role>} with shape {@code shape}; returns its IR name. */
    private String constant(OpContext c, int tensor, String role, Shape shape) {
        float[] values = constantValues(tensor, c);
        if (integer && (folded.containsKey(tensor) || !integerType(tensors[tensor].type()))) {
            throw new InvalidModelException(c.where() + ": the " + role + " '" + tensorName(tensor, "?") + "' is "
                    + (folded.containsKey(tensor) ? "computed at import by folding operators"
                    : "stored as " + TfliteSchema.typeName(tensors[tensor].type()))
                    + "; a fully-integer model needs its weights and biases stored as integers with a scale");
        }
        String name = unique(c.layer + "/" + role);
        builder.constant(name, new Tensor(shape, values));
        constantSource.put(name, tensor);
        return name;
    }

    private Shape constantShape(int tensor, int rank, OpContext c, String role) {
        if (tensor == -1 || !isConstant(tensor)) {
            throw new InvalidModelException(c.where() + ": the " + role + " operand"
                    + (tensor == -1 ? " is missing" : " '" + tensorName(tensor, "?") + "' is computed at run time")
                    + "; tinyptq needs it to be a constant in the file");
        }
        int[] dims = tensors[tensor].shape();
        if (dims.length != rank) {
            throw new InvalidModelException(c.where() + ": " + role + " '" + tensorName(tensor, "?") + "' has shape "
                    + Arrays.toString(dims) + ", expected rank " + rank);
        }
        return shape(dims, c.where() + ": " + role + " '" + tensorName(tensor, "?") + "'");
    }

    private boolean isConstant(int tensor) {
        return folded.containsKey(tensor) || constantBytes(tensor) != null;
    }

    /** The raw bytes of a constant tensor, or {@code null} when the tensor is computed at run time. */
    private ByteBuffer constantBytes(int tensor) {
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
    private float[] constantValues(int tensor, OpContext c) {
        float[] f = folded.get(tensor);
        if (f != null) {
            return f;
        }
        TfliteSchema.Tensor t = tensors[tensor];
        ByteBuffer data = constantBytes(tensor);
        int n = elementCount(t.shape());
        int type = t.type();
        if (type == TfliteSchema.INT4 && !t.isSparse()) {
            if (data.remaining() != (n + 1) / 2) {
                throw new InvalidModelException(c.where() + ": constant '" + tensorName(tensor, "?") + "' of shape "
                        + Arrays.toString(t.shape()) + " and type INT4 needs " + (n + 1) / 2
                        + " bytes (two values a byte) but its buffer holds " + data.remaining());
            }
            float[] v = new float[n];
            dequantize(t, int4s(data, n), v, c, tensor);
            return v;
        }
        int width = switch (type) {
            case TfliteSchema.FLOAT32, TfliteSchema.INT32 -> 4;
            case TfliteSchema.FLOAT16, TfliteSchema.INT16 -> 2;
            case TfliteSchema.INT8, TfliteSchema.UINT8 -> 1;
            case TfliteSchema.INT64, TfliteSchema.FLOAT64 -> 8;
            default -> throw new InvalidModelException(c.where() + ": constant '" + tensorName(tensor, "?")
                    + "' has type " + TfliteSchema.typeName(type) + ", which tinyptq cannot read");
        };
        if (t.isSparse()) {
            throw new InvalidModelException(c.where() + ": constant '" + tensorName(tensor, "?")
                    + "' is stored sparse, which tinyptq cannot read");
        }
        if (data.remaining() != (long) n * width) {
            throw new InvalidModelException(c.where() + ": constant '" + tensorName(tensor, "?") + "' of shape "
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
            default -> dequantize(t, integers(data, type, n), v, c, tensor);
        }
        return v;
    }

    private void dequantize(TfliteSchema.Tensor t, long[] q, float[] v, OpContext c, int tensor) {
        TfliteSchema.Quantization quant = t.quantization();
        float[] scale = quant == null ? new float[0] : quant.scale();
        if (scale.length == 0) {
            throw new InvalidModelException(c.where() + ": constant '" + tensorName(tensor, "?") + "' is stored as "
                    + TfliteSchema.typeName(t.type()) + " without a scale, so its real values are unknown");
        }
        long[] zp = quant.zeroPoint();
        int[] dims = t.shape();
        int axis = quant.quantizedDimension();
        int channels = scale.length;
        int inner = 1;
        if (channels > 1) {
            if (axis < 0 || axis >= dims.length || dims[axis] != channels) {
                throw new InvalidModelException(c.where() + ": constant '" + tensorName(tensor, "?") + "' has "
                        + channels + " scales along dimension " + axis + " of shape " + Arrays.toString(dims));
            }
            for (int d = axis + 1; d < dims.length; d++) {
                inner *= dims[d];
            }
        }
        if (zp.length != 0 && zp.length != channels) {
            throw new InvalidModelException(c.where() + ": constant '" + tensorName(tensor, "?") + "' has "
                    + channels + " scales but " + zp.length + " zero points");
        }
        for (int i = 0; i < v.length; i++) {
            int ch = channels == 1 ? 0 : (i / inner) % channels;
            long zero = zp.length == 0 ? 0 : zp[ch];
            // As TFLite's reference Dequantize: the product in double precision, rounded once to float.
            v[i] = (float) ((double) scale[ch] * (q[i] - zero));
        }
    }

    private static long[] integers(ByteBuffer data, int type, int n) {
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

    /** An INT32 or INT64 constant read as plain integers (axes, paddings). */
    private long[] integers(int tensor, OpContext c, String role) {
        if (tensor == -1 || folded.containsKey(tensor) || constantBytes(tensor) == null) {
            throw new InvalidModelException(c.where() + ": the " + role + " operand must be a constant in the file");
        }
        TfliteSchema.Tensor t = tensors[tensor];
        int n = elementCount(t.shape());
        int width = switch (t.type()) {
            case TfliteSchema.INT32 -> 4;
            case TfliteSchema.INT64 -> 8;
            default -> throw new InvalidModelException(c.where() + ": " + role + " have type "
                    + TfliteSchema.typeName(t.type()) + ", expected INT32 or INT64");
        };
        ByteBuffer data = constantBytes(tensor);
        if (data.remaining() != (long) n * width) {
            throw new InvalidModelException(c.where() + ": " + role + " '" + tensorName(tensor, "?") + "' needs "
                    + (long) n * width + " bytes but its buffer holds " + data.remaining());
        }
        return integers(data, t.type(), n);
    }

    /** The IR name of an activation tensor; fails when it is a constant or not yet computed. */
    private String activation(int tensor, String where) {
        String name = activations.get(tensor);
        if (name == null) {
            throw new InvalidModelException(where + " reads tensor '" + tensorName(tensor, "#" + tensor) + "', "
                    + (isConstant(tensor) ? "a constant, where tinyptq expects a computed tensor"
                    : "which no graph input or earlier operator produces"));
        }
        return name;
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

    /** Per-sample shape of a float activation tensor: TFLite's shape without its batch dimension of 1. */
    private Shape activationShape(int tensor, String where) {
        TfliteSchema.Tensor t = tensors[tensor];
        if (integer) {
            int type = t.type();
            if (type == TfliteSchema.UINT8) {
                throw new InvalidModelException(file + ": " + where + " is the UINT8 tensor '" + tensorName(tensor, "?")
                        + "'; tinyptq reads integer models with INT8 (or INT16) activations, not TFLite's legacy"
                        + " UINT8 quantization");
            }
            boolean floatInput = type == TfliteSchema.FLOAT32 && contains(graph.inputs(), tensor);
            if (type != TfliteSchema.INT8 && type != TfliteSchema.INT16 && !floatInput) {
                throw new InvalidModelException(file + ": " + where + " is the " + TfliteSchema.typeName(type)
                        + " tensor '" + tensorName(tensor, "?") + "'; a fully-integer model computes INT8 (or INT16)"
                        + " tensors, with float ones only at its inputs and outputs (QUANTIZE / DEQUANTIZE)");
            }
        } else if (t.type() != TfliteSchema.FLOAT32) {
            throw new InvalidModelException(file + ": " + where + " is the " + TfliteSchema.typeName(t.type())
                    + " tensor '" + tensorName(tensor, "?") + "'; tinyptq imports float models (FLOAT32 activations),"
                    + " not integer-quantized ones");
        }
        int[] dims = t.shape();
        if (dims.length < 2 || dims[0] != 1) {
            throw new InvalidModelException(file + ": " + where + " '" + tensorName(tensor, "?") + "' has shape "
                    + Arrays.toString(dims) + "; tinyptq expects a leading batch dimension of 1 and at least one more");
        }
        return shape(Arrays.copyOfRange(dims, 1, dims.length), file + ": " + where);
    }

    private static Shape shape(int[] dims, String what) {
        long n = 1;
        for (int d : dims) {
            if (d <= 0) {
                throw new InvalidModelException(what + " has shape " + Arrays.toString(dims)
                        + "; every dimension must be known and positive");
            }
            n *= d;
            if (n > Integer.MAX_VALUE) {
                throw new InvalidModelException(what + " has shape " + Arrays.toString(dims)
                        + ", more than 2^31-1 elements");
            }
        }
        return Shape.of(dims);
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

    private void checkIndex(int tensor, String what) {
        if (tensor < 0 || tensor >= tensors.length) {
            throw new InvalidModelException(file + ": " + what + " refers to tensor " + tensor + " but the graph has "
                    + tensors.length + " tensors");
        }
    }

    private String tensorName(int tensor, String fallback) {
        String n = tensors[tensor].name();
        return n == null || n.isBlank() ? fallback : n;
    }

    /** {@code base}, or {@code base_2}, {@code base_3}, ... if taken: IR names are unique across the model. */
    private String unique(String base) {
        String name = base;
        for (int i = 2; !names.add(name); i++) {
            name = base + "_" + i;
        }
        return name;
    }
}
