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
import io.tinyptq.api.integer.IntegerModel;
import io.tinyptq.api.integer.TensorQuant;
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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
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
    static final List<String> SUPPORTED = List.of(
            "ADD",
            "AVERAGE_POOL_2D",
            "CONV_2D",
            "DEPTHWISE_CONV_2D",
            "EXPAND_DIMS",
            "FULLY_CONNECTED",
            "MAX_POOL_2D",
            "MEAN",
            "PAD",
            "RELU",
            "RELU6",
            "RESHAPE",
            "SOFTMAX",
            "SQUEEZE");

    private static final String FOLDED =
            "DEQUANTIZE, QUANTIZE, RESHAPE, EXPAND_DIMS and SQUEEZE of constants" + " (folded at import)";

    private final Path file;
    private final TfliteFormat.LayerNames naming;
    /** Whether this import builds an {@link IntegerModel} ({@link #readInteger}) rather than a float model. */
    private final boolean integer;
    /** The TFLite tensor each IR activation tensor stands for (integer import: its quantization). */
    final Map<String, Integer> activationSource = new LinkedHashMap<>();
    /** The TFLite tensor each IR constant was read from (integer import: its stored integers). */
    private final Map<String, Integer> constantSource = new LinkedHashMap<>();
    /** Integer import: the integer quantization of float model inputs and outputs (folded QUANTIZE/DEQUANTIZE). */
    private final Map<String, TensorQuant> boundary = new LinkedHashMap<>();
    /** Integer import: the QUANTIZE operators at the graph inputs, folded into the inputs. */
    private final Set<Integer> boundaryOps = new HashSet<>();

    private final TfliteSchema.Model root;
    private final TfliteSchema.SubGraph graph;
    private final TfliteSchema.Tensor[] tensors;
    /** The graph's constant tensors, stored and folded. */
    final TfliteConstants constants;

    private final TfliteQuantization quantization;
    /** The translation of each imported operator. */
    private final TfliteOperators operators = new TfliteOperators(this);
    /** IR activation tensor name of each TFLite tensor computed at run time. */
    private final Map<Integer, String> activations = new HashMap<>();
    /** TFLite's per-sample shape of each IR activation tensor, checked against the IR after building. */
    final Map<String, Shape> recordedShapes = new HashMap<>();

    private final Set<String> names = new HashSet<>();
    final Model.Builder builder;
    /** The 1-D layers, found when {@link #translate()} starts. */
    private OneDimensionalLayers oneD;

    private TfliteImporter(Path file, byte[] data, TfliteFormat.LayerNames naming, boolean integer) {
        this.file = file;
        this.naming = naming;
        this.integer = integer;
        ByteBuffer bytes = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        this.root = TfliteSchema.Model.root(bytes);
        if (root.version() != TfliteSchema.VERSION) {
            throw new InvalidModelException(file + ": TFLite schema version " + root.version()
                    + "; tinyptq reads version " + TfliteSchema.VERSION);
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
        this.constants = new TfliteConstants(file, bytes, root, tensors);
        this.quantization = new TfliteQuantization(file, root, graph, tensors, constants);
        String stem = file.getFileName().toString().replaceFirst("\\.tflite$", "");
        this.builder = Model.builder(stem);
    }

    /** Reads {@code file}; every problem is an {@link InvalidModelException} (or {@link TinyPtqException} for I/O). */
    static Model read(Path file, TfliteFormat.LayerNames naming) {
        return parse(file, naming, false, imp -> {
            String integerTensor = imp.quantization.integerActivation();
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
        return parse(file, TfliteFormat.LayerNames.KERAS, true, imp -> imp.quantization.integerActivation() != null);
    }

    /**
     * Reads a fully-integer file as an {@link IntegerModel}: the graph as {@link #read} builds it (constants
     * dequantized), every tensor's quantization, every constant's stored integers (INT4 unpacked), and the
     * integer quantization of float inputs and outputs whose QUANTIZE / DEQUANTIZE operators are folded away.
     */
    static IntegerModel readInteger(Path file, TfliteFormat.LayerNames naming) {
        return parse(file, naming, true, imp -> {
            if (imp.quantization.integerActivation() == null) {
                throw new InvalidModelException(file + " is a float TFLite model (FLOAT32 activations), not a"
                        + " fully-integer one; it is read as a float model");
            }
            return imp.translateInteger();
        });
    }

    /** Largest file read: flatbuffer offsets are 32-bit signed. */
    static final long MAX_FILE_BYTES = Integer.MAX_VALUE;

    private static <T> T parse(
            Path file, TfliteFormat.LayerNames naming, boolean integer, Function<TfliteImporter, T> action) {
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
            throw new InvalidModelException(
                    file + " is truncated or corrupt (" + data.length + " bytes): " + e.getMessage());
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
        oneD = new OneDimensionalLayers(root, graph, tensors);
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
        if (oneD.absorbed(index) || boundaryOps.contains(index)) {
            return;
        }
        if (integer && (code == DEQUANTIZE || code == QUANTIZE) && in.length >= 1 && !constants.isConstant(in[0])) {
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
                && in.length >= 1
                && constants.isConstant(in[0])) {
            constants.fold(c.code, c.in[0], c.out[0], c::where);
            return;
        }
        OneDimensionalLayers.OneD oned = oneD.at(index);
        if (oned != null) {
            switch (code) {
                case CONV_2D -> operators.conv1d(c, oned);
                default -> operators.pool1d(c, oned);
            }
            return;
        }
        switch (code) {
            case CONV_2D -> operators.conv2d(c);
            case DEPTHWISE_CONV_2D -> operators.depthwise(c);
            case FULLY_CONNECTED -> operators.fullyConnected(c);
            case ADD -> operators.add(c);
            case AVERAGE_POOL_2D, MAX_POOL_2D -> operators.pool(c);
            case MEAN -> operators.mean(c);
            case PAD -> operators.pad(c);
            case RESHAPE, EXPAND_DIMS, SQUEEZE -> operators.reshape(c);
            case SOFTMAX -> operators.softmax(c);
            case RELU, RELU6 -> operators.activationOp(c);
            case DEQUANTIZE, QUANTIZE ->
                throw new InvalidModelException(c.where() + " applies "
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
    final class OpContext {
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
            this.layer = unique(LayerNames.derive(
                    tensorName(out[0], BuiltinOperator.name(code).toLowerCase() + "_" + index), code, naming));
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
                throw new InvalidModelException(
                        where() + " carries builtin options of union type " + found + ", expected " + type);
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

    private boolean validTensor(int t) {
        return t >= 0 && t < tensors.length;
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
        int code = opcode < root.operatorCodeCount()
                ? root.operatorCode((int) opcode).builtinCode()
                : -1;
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
        TensorQuant quant = quantization.tensorQuant(q, null);
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
            throw new InvalidModelException(
                    where + " writes " + TfliteSchema.typeName(tensors[out[0]].type()) + ", expected FLOAT32");
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
            quant.put(t, quantization.tensorQuant(src, null));
        }
        Map<String, TensorQuant> bounds = new LinkedHashMap<>(boundary);
        for (var e : floatOutputs.entrySet()) {
            TensorQuant q = quantization.tensorQuant(e.getValue(), null);
            if (q.perChannel()) {
                throw new InvalidModelException(file + ": output '" + e.getKey() + "' is quantized per channel;"
                        + " tinyptq reads per-tensor activations");
            }
            quant.put(e.getKey(), TensorQuant.float32());
            bounds.put(e.getKey(), q);
        }
        Map<String, int[]> values = new LinkedHashMap<>();
        for (var e : constantSource.entrySet()) {
            quant.put(
                    e.getKey(),
                    quantization.tensorQuant(
                            e.getValue(), model.constant(e.getKey()).shape()));
            values.put(e.getKey(), constants.storedIntegers(e.getValue()));
        }
        return new IntegerModel(model, quant, values, bounds);
    }

    private static boolean contains(int[] v, int x) {
        for (int e : v) {
            if (e == x) {
                return true;
            }
        }
        return false;
    }

    /** Adds constant {@code tensor} as {@code <layer>/<role>} with shape {@code shape}; returns its IR name. */
    String constant(OpContext c, int tensor, String role, Shape shape) {
        float[] values = constants.values(tensor, c::where);
        if (integer && (constants.isFolded(tensor) || !TfliteQuantization.integerType(tensors[tensor].type()))) {
            throw new InvalidModelException(c.where() + ": the " + role + " '" + tensorName(tensor, "?") + "' is "
                    + (constants.isFolded(tensor)
                            ? "computed at import by folding operators"
                            : "stored as " + TfliteSchema.typeName(tensors[tensor].type()))
                    + "; a fully-integer model needs its weights and biases stored as integers with a scale");
        }
        String name = unique(c.layer + "/" + role);
        builder.constant(name, new Tensor(shape, values));
        constantSource.put(name, tensor);
        return name;
    }

    Shape constantShape(int tensor, int rank, OpContext c, String role) {
        if (tensor == -1 || !constants.isConstant(tensor)) {
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

    /** The IR name of an activation tensor; fails when it is a constant or not yet computed. */
    String activation(int tensor, String where) {
        String name = activations.get(tensor);
        if (name == null) {
            throw new InvalidModelException(where + " reads tensor '" + tensorName(tensor, "#" + tensor) + "', "
                    + (constants.isConstant(tensor)
                            ? "a constant, where tinyptq expects a computed tensor"
                            : "which no graph input or earlier operator produces"));
        }
        return name;
    }

    /** {@link TfliteConstants#int4s}. */
    static long[] int4s(ByteBuffer data, int n) {
        return TfliteConstants.int4s(data, n);
    }

    /** Per-sample shape of a float activation tensor: TFLite's shape without its batch dimension of 1. */
    Shape activationShape(int tensor, String where) {
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
                throw new InvalidModelException(
                        what + " has shape " + Arrays.toString(dims) + "; every dimension must be known and positive");
            }
            n *= d;
            if (n > Integer.MAX_VALUE) {
                throw new InvalidModelException(
                        what + " has shape " + Arrays.toString(dims) + ", more than 2^31-1 elements");
            }
        }
        return Shape.of(dims);
    }

    private void checkIndex(int tensor, String what) {
        if (tensor < 0 || tensor >= tensors.length) {
            throw new InvalidModelException(file + ": " + what + " refers to tensor " + tensor + " but the graph has "
                    + tensors.length + " tensors");
        }
    }

    String tensorName(int tensor, String fallback) {
        String n = tensors[tensor].name();
        return n == null || n.isBlank() ? fallback : n;
    }

    /** {@code base}, or {@code base_2}, {@code base_3}, ... if taken: IR names are unique across the model. */
    String unique(String base) {
        String name = base;
        for (int i = 2; !names.add(name); i++) {
            name = base + "_" + i;
        }
        return name;
    }
}
