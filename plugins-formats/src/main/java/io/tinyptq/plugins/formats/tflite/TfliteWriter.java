package io.tinyptq.plugins.formats.tflite;

import com.google.flatbuffers.FlatBufferBuilder;
import io.tinyptq.api.InvalidModelException;
import io.tinyptq.api.TinyPtqException;
import io.tinyptq.api.integer.ElementType;
import io.tinyptq.api.integer.IntegerModel;
import io.tinyptq.api.integer.TensorQuant;
import io.tinyptq.api.model.Model;
import io.tinyptq.api.model.Op;
import io.tinyptq.api.model.Padding;
import io.tinyptq.api.model.Shape;
import io.tinyptq.api.model.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.function.ToIntFunction;

/**
 * Writes a float tinyptq model as a TFLite flatbuffer (schema version 3, file identifier {@code TFL3}) with
 * flatbuffers-java's {@link FlatBufferBuilder}. The builder calls are written by hand from TensorFlow Lite's
 * {@code schema.fbs}: every {@code add*} names the field id it writes (the n-th field of a table has id n,
 * deprecated fields included), as {@link TfliteSchema}'s readers do.
 *
 * <p>The file is what the TensorFlow converter writes for a float Keras model:
 * <ul>
 *   <li>one subgraph; every activation tensor FLOAT32 with the batch dimension of 1 first ({@code [1,32,32,3]});</li>
 *   <li>buffer 0 empty (the sentinel activation tensors point at), then one buffer per constant, 16-byte aligned;</li>
 *   <li>one operator code per builtin used, with both {@code deprecated_builtin_code} ({@code min(code,127)}) and
 *       {@code builtin_code};</li>
 *   <li>weight layouts as the importer reads them: CONV_2D OHWI, DEPTHWISE_CONV_2D {@code [1,kh,kw,C*m]},
 *       FULLY_CONNECTED {@code [out,in]}; a dense layer without bias has two inputs, a convolution without bias an
 *       all-zero bias named {@code <layer>/no_bias} (TFLite's float convolution kernels require one), which the
 *       importer drops;</li>
 *   <li>TFLite has no 1-D convolution or pooling: a {@link Op.Conv1D} is RESHAPE {@code [1,W,C] -> [1,1,W,C]},
 *       CONV_2D with weight {@code [Cout,1,k,Cin]}, RESHAPE back to {@code [1,W',Cout]}, as the converter emits
 *       for Keras' Conv1D; a {@link Op.Pool} over {@code [W,C]} is the same around a 1-row pool. The importer
 *       turns the pattern back into the 1-D op.</li>
 * </ul>
 * Tensor names keep the layer names: a layer's output tensor is {@code <layer>/<TensorFlow op>}
 * ({@code conv1/BiasAdd}, {@code pool/MaxPool}, ...), from which {@link LayerNames} derives {@code <layer>} again;
 * graph inputs keep their names. An operation TFLite cannot express fails naming the layer and its type.
 *
 * <p>An {@link IntegerModel} is written the same way, operator for operator, as the converter writes a
 * fully-integer model ({@link #toBytes(IntegerModel)}): every activation tensor at its integer type with its
 * {@code QuantizationParameters} (scale, zero point; the tensors a 1-D op or an explicit padding adds in between
 * keep the quantization of the tensor they reshape or pad), weights and biases as their stored integers with their
 * per-tensor or per-channel quantization ({@code quantized_dimension} mapped from the IR layout to TFLite's, so a
 * depthwise weight's IR axis 2 is dimension 3 of {@code [1,kh,kw,C]}), INT4 weights packed two a byte, low nibble
 * first, for CONV_2D and FULLY_CONNECTED (the TFLite kernels that take INT4 filters; a DEPTHWISE_CONV_2D's INT4
 * weights are written as INT8 tensors holding the 4-bit values), a convolution without bias given an all-zero INT32
 * bias at scale {@code s_input * s_weight[c]}, and each operator code at the version TFLite's converter declares
 * for its integer kernel (CONV_2D and DEPTHWISE_CONV_2D 3, FULLY_CONNECTED 4, ADD, pools, MEAN, PAD, SOFTMAX,
 * RELU, RELU6 2; INT4 weights CONV_2D 7, FULLY_CONNECTED 10). A model input or output that is float32 at the
 * {@link IntegerModel#boundary} becomes a FLOAT32 graph tensor with a QUANTIZE after it (input) or a DEQUANTIZE
 * before it (output), as the converter writes for {@code inference_input_type=float}.
 */
final class TfliteWriter {
    /** Last name segment of the all-zero bias written for a convolution without bias (see {@link #layerInputs}). */
    static final String NO_BIAS = "no_bias";
    /** {@code BuiltinOptions} union ids written here besides those in {@link TfliteSchema}. */
    private static final int OPTIONS_PAD = 22;

    private final Model model;
    /** The integer model being written, or {@code null} for a float file. */
    private final IntegerModel integer;
    /** TFLite tensor index of each IR activation tensor written so far. */
    private final Map<String, Integer> activations = new HashMap<>();
    /** The file's tensors, buffers and operators. */
    private final TfliteFileBuilder contents = new TfliteFileBuilder();

    private TfliteWriter(Model model, IntegerModel integer) {
        this.model = model;
        this.integer = integer;
    }

    /** The TFLite flatbuffer of {@code model}. */
    static byte[] toBytes(Model model) {
        return new TfliteWriter(model, null).translate();
    }

    /** The fully-integer TFLite flatbuffer of {@code model}. */
    static byte[] toBytes(IntegerModel model) {
        model.quant().forEach((tensor, q) -> {
            if (q.narrowed()) {
                throw new InvalidModelException("integer model '"
                        + model.graph().name() + "': tensor '" + tensor
                        + "' holds values confined to [" + q.qmin() + ", " + q.qmax() + "] (activations of fewer than"
                        + " 8 bits in int8); a TFLite file has no such range and its kernels would clamp to the whole"
                        + " " + q.type() + " range, so the file would compute another model: quantize with"
                        + " activation_bits 8 for a TFLite file");
            }
        });
        return new TfliteWriter(model.graph(), model).translate();
    }

    /**
     * Writes {@code model} to {@code file} (creating missing parent folders); I/O problems are
     * {@link TinyPtqException}s.
     */
    static void write(Model model, Path file) {
        writeBytes(toBytes(model), file);
    }

    /** Writes the fully-integer {@code model} to {@code file}, as {@link #write(Model, Path)} does a float one. */
    static void write(IntegerModel model, Path file) {
        writeBytes(toBytes(model), file);
    }

    private static void writeBytes(byte[] bytes, Path file) {
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            Files.write(file, bytes);
        } catch (IOException e) {
            throw new TinyPtqException(
                    "cannot write model file " + file + ": " + e.getClass().getSimpleName()
                            + (e.getMessage() == null ? "" : " " + e.getMessage()),
                    e);
        }
    }

    private byte[] translate() {
        int[] inputs = new int[model.inputs().size()];
        int i = 0;
        for (var e : model.inputs().entrySet()) {
            String name = e.getKey();
            if (floatBoundary(name)) {
                // The converter's inference_input_type=float: a FLOAT32 input, QUANTIZE into the integer graph.
                inputs[i] = contents.addTensor(name, batched(e.getValue()), TfliteSchema.FLOAT32, 0, null);
                operator(
                        BuiltinOperator.QUANTIZE,
                        new int[] {inputs[i]},
                        activation(name, name + "_int8", batched(e.getValue())),
                        0,
                        null);
                i++;
            } else {
                inputs[i++] = activation(name, name, batched(e.getValue()));
            }
        }
        for (Op op : model.ops()) {
            write(op);
        }
        int[] outputs = new int[model.outputs().size()];
        for (int k = 0; k < outputs.length; k++) {
            String name = model.outputs().get(k);
            int t = activations.get(name);
            if (floatBoundary(name)) {
                // The converter's inference_output_type=float: DEQUANTIZE of the integer result.
                TfliteFileBuilder.TensorSpec q = contents.tensor(t);
                int f = contents.addTensor(q.name() + "_float", q.shape(), TfliteSchema.FLOAT32, 0, null);
                operator(BuiltinOperator.DEQUANTIZE, new int[] {t}, f, 0, null);
                t = f;
            }
            outputs[k] = t;
        }
        return contents.build(model.name(), inputs, outputs);
    }

    /** Whether IR tensor {@code name} is a float input or output of an integer model (converted at the boundary). */
    private boolean floatBoundary(String name) {
        return integer != null && !integer.quant(name).type().isInteger();
    }

    private void write(Op op) {
        switch (op) {
            case Op.Conv2D c -> conv2d(c);
            case Op.DepthwiseConv2D d -> depthwise(d);
            case Op.Conv1D c -> conv1d(c);
            case Op.FullyConnected f -> fullyConnected(f);
            case Op.Add a ->
                operator(
                        BuiltinOperator.ADD,
                        ins(a.a(), a.b()),
                        output(op, "add"),
                        TfliteSchema.OPTIONS_ADD,
                        TfliteOptions.activationOptions(a.activation()));
            case Op.Act a -> act(a);
            case Op.Pool p -> pool(p);
            case Op.Mean m -> mean(m);
            case Op.Reshape r -> reshape(r.input(), batched(r.shape()), r.name() + "/shape", output(op, "Reshape"));
            case Op.Pad p -> pad(p);
            case Op.Softmax s ->
                operator(
                        BuiltinOperator.SOFTMAX,
                        ins(s.input()),
                        output(op, "Softmax"),
                        TfliteSchema.OPTIONS_SOFTMAX,
                        b -> {
                            b.startTable(1);
                            b.addFloat(0, 1f, 0f); // SoftmaxOptions.beta (id 0)
                            return b.endTable();
                        });
            case Op.BatchNorm bn ->
                throw cannot(
                        op,
                        "TFLite has no BatchNorm operator and this one cannot fold into"
                                + " the layer before it (it must follow a conv/dense layer without activation whose output only it"
                                + " reads)");
            // Ops added to the IR later land here until the writer learns them.
            default -> throw cannot(op, "the tflite writer has no TFLite operator for " + op.type());
        }
    }

    private static InvalidModelException cannot(Op op, String why) {
        return new InvalidModelException("layer '" + op.name() + "' (" + op.type() + ") cannot be written to TFLite: "
                + why + "; the tflite writer writes conv2d, depthwise_conv2d, conv1d, fully_connected, add, relu,"
                + " relu6, avg_pool, max_pool, mean, reshape, pad and softmax");
    }

    private void conv2d(Op.Conv2D c) {
        Shape w4 = model.constant(c.weight()).shape();
        Padding padding = TfliteOptions.tfPadding(
                c.padding(), model.shape(c.input()), w4.dim(1), c.strideH(), w4.dim(2), c.strideW());
        int x = padding == null ? explicitPad(c, c.padding()) : activations.get(c.input());
        int w = constant(c.weight(), c.name() + "/kernel", w4.dims(), true);
        int out = output(c, c.bias() == null ? "Conv2D" : "BiasAdd");
        operator(
                BuiltinOperator.CONV_2D,
                layerInputs(x, w, c, w4.dim(0)),
                out,
                TfliteSchema.OPTIONS_CONV2D,
                TfliteOptions.convOptions(
                        padding == null ? Padding.VALID : padding, c.strideW(), c.strideH(), c.activation()));
    }

    /**
     * A PAD operator in front of a convolution whose explicit padding matches neither SAME nor VALID (the
     * convolution is then written VALID), as the converter writes a zero-padding layer before a convolution;
     * its layer is {@code <layer>/pad}. Returns the padded tensor.
     */
    private int explicitPad(Op.Layer layer, Padding p) {
        Shape in = model.shape(layer.input());
        boolean oneD = in.rank() == 2;
        int[] before = oneD ? new int[] {p.left(), 0} : new int[] {p.top(), p.left(), 0};
        int[] after = oneD ? new int[] {p.right(), 0} : new int[] {p.bottom(), p.right(), 0};
        int[] padded = batched(in);
        for (int i = 0; i < before.length; i++) {
            padded[i + 1] += before[i] + after[i];
        }
        int out = tensor(layer.name() + "/pad/Pad", padded, layer.input());
        padOperator(activations.get(layer.input()), layer.name() + "/pad/paddings", before, after, out);
        return out;
    }

    private void depthwise(Op.DepthwiseConv2D d) {
        Shape w3 = model.constant(d.weight()).shape();
        Padding padding = TfliteOptions.tfPadding(
                d.padding(), model.shape(d.input()), w3.dim(0), d.strideH(), w3.dim(1), d.strideW());
        int x = padding == null ? explicitPad(d, d.padding()) : activations.get(d.input());
        // The IR's [kh,kw,C*m] is TFLite's 1HWO without the leading 1; the values keep their order.
        int w = constant(d.weight(), d.name() + "/kernel", prepend(1, w3.dims()), false);
        int out = output(d, d.bias() == null ? "depthwise" : "BiasAdd");
        operator(
                BuiltinOperator.DEPTHWISE_CONV_2D,
                layerInputs(x, w, d, w3.dim(2)),
                out,
                TfliteSchema.OPTIONS_DEPTHWISE_CONV2D,
                TfliteOptions.depthwiseOptions(
                        padding == null ? Padding.VALID : padding,
                        d.strideW(),
                        d.strideH(),
                        d.multiplier(),
                        d.activation()));
    }

    /** RESHAPE {@code [1,W,Cin] -> [1,1,W,Cin]}, CONV_2D with weight {@code [Cout,1,k,Cin]}, RESHAPE back. */
    private void conv1d(Op.Conv1D c) {
        Shape w3 = model.constant(c.weight()).shape();
        Shape in = model.shape(c.input());
        Padding padding = TfliteOptions.tfPadding(c.padding(), in, 1, 1, w3.dim(1), c.stride());
        int x = padding == null ? explicitPad(c, c.padding()) : activations.get(c.input());
        int width =
                padding == null ? in.dim(0) + c.padding().left() + c.padding().right() : in.dim(0);
        Shape out = model.shape(c.output());
        int rows = tensor(c.name() + "/ExpandDims", new int[] {1, 1, width, in.dim(1)}, c.input());
        reshapeTensor(x, new int[] {1, 1, width, in.dim(1)}, c.name() + "/ExpandDims/shape", rows);
        int w = constant(c.weight(), c.name() + "/kernel", prepend(1, w3.dims(), 1), true);
        int conv = tensor(
                c.name() + (c.bias() == null ? "/Conv2D" : "/BiasAdd"),
                new int[] {1, 1, out.dim(0), out.dim(1)},
                c.output());
        operator(
                BuiltinOperator.CONV_2D,
                layerInputs(rows, w, c, w3.dim(0)),
                conv,
                TfliteSchema.OPTIONS_CONV2D,
                TfliteOptions.convOptions(padding == null ? Padding.VALID : padding, c.stride(), 1, c.activation()));
        squeeze(c, conv);
    }

    /** The RESHAPE back from {@code [1,1,W',C]} to the 1-D op's {@code [1,W',C]}, registered as its output. */
    private void squeeze(Op op, int rows) {
        int shape = int32Constant(op.name() + "/Squeeze/shape", batched(model.shape(op.output())));
        operator(
                BuiltinOperator.RESHAPE,
                new int[] {rows, shape},
                output(op, "Squeeze"),
                TfliteSchema.OPTIONS_RESHAPE,
                TfliteOptions.reshapeOptions(batched(model.shape(op.output()))));
    }

    private void fullyConnected(Op.FullyConnected f) {
        int w = constant(
                f.weight(),
                f.name() + "/kernel",
                model.constant(f.weight()).shape().dims(),
                true);
        int out = output(f, f.bias() == null ? "MatMul" : "BiasAdd");
        operator(
                BuiltinOperator.FULLY_CONNECTED,
                layerInputs(activations.get(f.input()), w, f, 0),
                out,
                TfliteSchema.OPTIONS_FULLY_CONNECTED,
                TfliteOptions.fullyConnectedOptions(f.activation()));
    }

    private void act(Op.Act a) {
        switch (a.activation()) {
            case RELU -> operator(BuiltinOperator.RELU, ins(a.input()), output(a, "Relu"), 0, null);
            case RELU6 -> operator(BuiltinOperator.RELU6, ins(a.input()), output(a, "Relu6"), 0, null);
            // The identity: a RESHAPE to the same shape (read back as a reshape layer).
            case NONE ->
                reshape(a.input(), batched(model.shape(a.output())), a.name() + "/shape", output(a, "Reshape"));
        }
    }

    private void pool(Op.Pool p) {
        int code = p.kind() == Op.PoolKind.AVG ? BuiltinOperator.AVERAGE_POOL_2D : BuiltinOperator.MAX_POOL_2D;
        String marker = p.kind() == Op.PoolKind.AVG ? "AvgPool" : "MaxPool";
        Shape in = model.shape(p.input());
        Padding padding = TfliteOptions.tfPadding(p.padding(), in, p.kh(), p.strideH(), p.kw(), p.strideW());
        if (padding == null) {
            // A padded pool is not a pad and a pool: padding takes no part in a max, nor in an average's count.
            throw cannot(
                    p,
                    "explicit padding " + p.padding() + " on input " + p.input() + in + " pads neither as"
                            + " TFLite's SAME nor as VALID");
        }
        if (in.rank() == 3) {
            operator(
                    code,
                    ins(p.input()),
                    output(p, marker),
                    TfliteSchema.OPTIONS_POOL2D,
                    TfliteOptions.poolOptions(padding, p.strideW(), p.strideH(), p.kw(), p.kh(), p.activation()));
            return;
        }
        if (p.kh() != 1 || p.strideH() != 1) {
            throw cannot(
                    p,
                    "a pool over the [W,C] tensor " + p.input() + in + " needs a window and stride of 1 row,"
                            + " found kh " + p.kh() + " and stride_h " + p.strideH());
        }
        Shape out = model.shape(p.output());
        int rows = reshape(
                p.input(),
                new int[] {1, 1, in.dim(0), in.dim(1)},
                p.name() + "/ExpandDims/shape",
                tensor(p.name() + "/ExpandDims", new int[] {1, 1, in.dim(0), in.dim(1)}, p.input()));
        int pooled = tensor(p.name() + "/" + marker, new int[] {1, 1, out.dim(0), out.dim(1)}, p.output());
        operator(
                code,
                new int[] {rows},
                pooled,
                TfliteSchema.OPTIONS_POOL2D,
                TfliteOptions.poolOptions(padding, p.strideW(), 1, p.kw(), 1, p.activation()));
        squeeze(p, pooled);
    }

    private void mean(Op.Mean m) {
        // TFLite axes count the batch axis: the spatial axes of [1,H,W,C] are 1 and 2, of [1,W,C] axis 1.
        int rank = model.shape(m.input()).rank();
        int[] axes = new int[rank - 1];
        for (int i = 0; i < axes.length; i++) {
            axes[i] = i + 1;
        }
        int axesTensor = int32Constant(m.name() + "/reduction_indices", axes);
        operator(
                BuiltinOperator.MEAN,
                new int[] {activations.get(m.input()), axesTensor},
                output(m, "Mean"),
                TfliteSchema.OPTIONS_REDUCER,
                b -> {
                    b.startTable(1);
                    b.addBoolean(0, false, false); // ReducerOptions.keep_dims (id 0)
                    return b.endTable();
                });
    }

    private void pad(Op.Pad p) {
        int[] before = p.before();
        int[] after = p.after();
        for (int i = 0; i < before.length; i++) {
            if (before[i] < 0 || after[i] < 0) {
                throw cannot(
                        p,
                        "negative padding " + before[i] + "/" + after[i] + " on axis " + i
                                + "; TFLite's PAD only adds elements");
            }
        }
        padOperator(activations.get(p.input()), p.name() + "/paddings", before, after, output(p, "Pad"));
    }

    /** PAD of tensor {@code input} into {@code out}: paddings {@code [rank,2]} int32, the batch axis first (0, 0). */
    private void padOperator(int input, String paddingsName, int[] before, int[] after, int out) {
        int[] paddings = new int[2 * (before.length + 1)];
        for (int i = 0; i < before.length; i++) {
            paddings[2 * (i + 1)] = before[i];
            paddings[2 * (i + 1) + 1] = after[i];
        }
        int padTensor = int32Constant(paddingsName, paddings, before.length + 1, 2);
        operator(BuiltinOperator.PAD, new int[] {input, padTensor}, out, OPTIONS_PAD, b -> {
            b.startTable(0); // PadOptions has no fields
            return b.endTable();
        });
    }

    /**
     * RESHAPE of IR activation {@code input} into tensor {@code out}, with the shape both as an int32 input and in
     * ReshapeOptions, as the converter writes it.
     */
    private int reshape(String input, int[] shape, String shapeName, int out) {
        int shapeTensor = int32Constant(shapeName, shape);
        operator(
                BuiltinOperator.RESHAPE,
                new int[] {activations.get(input), shapeTensor},
                out,
                TfliteSchema.OPTIONS_RESHAPE,
                TfliteOptions.reshapeOptions(shape));
        return out;
    }

    /** RESHAPE of TFLite tensor {@code input} into tensor {@code out}. */
    private void reshapeTensor(int input, int[] shape, String shapeName, int out) {
        int shapeTensor = int32Constant(shapeName, shape);
        operator(
                BuiltinOperator.RESHAPE,
                new int[] {input, shapeTensor},
                out,
                TfliteSchema.OPTIONS_RESHAPE,
                TfliteOptions.reshapeOptions(shape));
    }

    /**
     * Input, weight and bias. A layer without bias has two inputs, except convolutions ({@code zeroBias > 0}
     * channels): TFLite's float CONV_2D and DEPTHWISE_CONV_2D kernels require a bias, so they get an all-zero one
     * named {@code <layer>/}{@value #NO_BIAS}, which the importer drops again.
     */
    private int[] layerInputs(int input, int weight, Op.Layer layer, int zeroBias) {
        if (layer.bias() == null && zeroBias > 0) {
            byte[] zeros = new byte[4 * zeroBias];
            String name = layer.name() + "/" + NO_BIAS;
            if (integer == null) {
                return new int[] {
                    input,
                    weight,
                    contents.constantTensor(name, new int[] {zeroBias}, TfliteSchema.FLOAT32, zeros, null)
                };
            }
            // INT32 at scale s_input * s_weight[c], as an integer kernel expects of a bias.
            float sIn = contents.tensor(input).quant().scale(0);
            TensorQuant w = contents.tensor(weight).quant();
            float[] scale = new float[zeroBias];
            for (int c = 0; c < zeroBias; c++) {
                scale[c] = sIn * w.scale(c);
            }
            TensorQuant q = w.perChannel()
                    ? new TensorQuant(ElementType.INT32, scale, new int[zeroBias], 0)
                    : TensorQuant.perTensor(ElementType.INT32, scale[0], 0);
            return new int[] {
                input, weight, contents.constantTensor(name, new int[] {zeroBias}, TfliteSchema.INT32, zeros, q)
            };
        }
        if (layer.bias() == null) {
            return new int[] {input, weight};
        }
        int bias = constant(
                layer.bias(),
                layer.name() + "/bias",
                model.constant(layer.bias()).shape().dims(),
                false);
        return new int[] {input, weight, bias};
    }

    private int[] ins(String... irTensors) {
        int[] r = new int[irTensors.length];
        for (int i = 0; i < r.length; i++) {
            r[i] = activations.get(irTensors[i]);
        }
        return r;
    }

    /** The output tensor of {@code op}, named {@code <layer>/<marker>} so the importer gets the layer name back. */
    private int output(Op op, String marker) {
        return activation(op.output(), op.name() + "/" + marker, batched(model.shape(op.output())));
    }

    private int activation(String irName, String tensorName, int[] shape) {
        int t = tensor(tensorName, shape, irName);
        activations.put(irName, t);
        return t;
    }

    /**
     * A tensor computed at run time (buffer 0): FLOAT32 in a float file; in an integer one at the integer type and
     * quantization of IR activation {@code quantOf} (the tensor it stands for, reshapes or pads), its boundary's
     * for a float model input or output.
     */
    private int tensor(String name, int[] shape, String quantOf) {
        if (integer == null) {
            return contents.addTensor(name, shape, TfliteSchema.FLOAT32, 0, null);
        }
        TensorQuant q = integer.integerQuant(quantOf);
        if (q == null) {
            throw new InvalidModelException("integer model '" + model.name() + "': tensor '" + quantOf
                    + "' is float32 without a boundary quantization");
        }
        if (q.perChannel()) {
            throw new InvalidModelException("integer model '" + model.name() + "': activation '" + quantOf
                    + "' is quantized per channel; TFLite's integer kernels take per-tensor activations");
        }
        return contents.addTensor(name, shape, tfliteType(q.type()), 0, q);
    }

    private static int tfliteType(ElementType type) {
        return switch (type) {
            case INT4 -> TfliteSchema.INT4;
            case INT8 -> TfliteSchema.INT8;
            case INT16 -> TfliteSchema.INT16;
            case INT32 -> TfliteSchema.INT32;
            case FLOAT32 -> TfliteSchema.FLOAT32;
        };
    }

    /**
     * The constant of IR constant {@code irName} in TFLite shape {@code shape}: FLOAT32 values in a float file; in
     * an integer one its stored integers at their type, INT4 packed two a byte where {@code int4} says the operator
     * takes INT4 (else written as INT8), with its quantization along the TFLite dimension its IR axis becomes.
     */
    private int constant(String irName, String tensorName, int[] shape, boolean int4) {
        Tensor t = model.constant(irName);
        if (integer == null) {
            ByteBuffer data = ByteBuffer.allocate(4 * t.data().length).order(ByteOrder.LITTLE_ENDIAN);
            for (float v : t.data()) {
                data.putFloat(v);
            }
            return contents.constantTensor(tensorName, shape, TfliteSchema.FLOAT32, data.array(), null);
        }
        TensorQuant q = integer.quant(irName);
        int[] v = integer.values(irName);
        ElementType type = q.type() == ElementType.INT4 && !int4 ? ElementType.INT8 : q.type();
        byte[] data = switch (type) {
            case INT4 -> {
                byte[] b = new byte[(v.length + 1) / 2];
                for (int k = 0; k < v.length; k++) {
                    b[k / 2] |= (byte) ((v[k] & 0xF) << (k % 2 == 0 ? 0 : 4));
                }
                yield b;
            }
            case INT8 -> {
                byte[] b = new byte[v.length];
                for (int k = 0; k < v.length; k++) {
                    b[k] = (byte) v[k];
                }
                yield b;
            }
            case INT16 -> {
                ByteBuffer b = ByteBuffer.allocate(2 * v.length).order(ByteOrder.LITTLE_ENDIAN);
                for (int x : v) {
                    b.putShort((short) x);
                }
                yield b.array();
            }
            case INT32 -> {
                ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
                for (int x : v) {
                    b.putInt(x);
                }
                yield b.array();
            }
            case FLOAT32 ->
                throw new InvalidModelException("integer model '" + model.name() + "': constant '" + irName
                        + "' is float32; a fully-integer file stores weights and biases as integers");
        };
        int axis = q.perChannel() ? tfliteAxis(t.shape(), q.axis(), shape, irName) : 0;
        return contents.constantTensor(
                tensorName, shape, tfliteType(type), data, new TensorQuant(type, q.scale(), q.zeroPoint(), axis));
    }

    /**
     * The dimension of TFLite shape {@code dims} that IR axis {@code axis} of {@code ir} becomes: the one with as
     * many channels and as many elements after it (the layouts differ only by inserted 1s).
     */
    private int tfliteAxis(Shape ir, int axis, int[] dims, String irName) {
        long after = 1;
        for (int d = axis + 1; d < ir.rank(); d++) {
            after *= ir.dim(d);
        }
        for (int d = dims.length - 1; d >= 0; d--) {
            long inner = 1;
            for (int e = d + 1; e < dims.length; e++) {
                inner *= dims[e];
            }
            if (dims[d] == ir.dim(axis) && inner == after) {
                return d;
            }
        }
        throw new IllegalStateException("constant '" + irName + "': IR axis " + axis + " of " + ir
                + " has no counterpart in " + Arrays.toString(dims));
    }

    /** An INT32 constant; {@code shape} defaults to one dimension of {@code values.length}. */
    private int int32Constant(String name, int[] values, int... shape) {
        ByteBuffer data = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (int v : values) {
            data.putInt(v);
        }
        return contents.constantTensor(
                name, shape.length == 0 ? new int[] {values.length} : shape, TfliteSchema.INT32, data.array(), null);
    }

    /** Adds an operator with its one output tensor. */
    private void operator(
            int code, int[] inputs, int output, int optionsType, ToIntFunction<FlatBufferBuilder> options) {
        contents.operator(code, version(code, inputs), inputs, output, optionsType, options);
    }

    /**
     * The operator version: 1 in a float file; in an integer one the version TFLite's converter declares for the
     * integer kernel ({@code op_version.cc}; the versions the MLPerf Tiny int8 files carry).
     */
    private int version(int code, int[] inputs) {
        if (integer == null) {
            return 1;
        }
        boolean int4 = inputs.length > 1 && contents.tensor(inputs[1]).type() == TfliteSchema.INT4;
        return switch (code) {
            case BuiltinOperator.CONV_2D -> int4 ? 7 : 3;
            case BuiltinOperator.DEPTHWISE_CONV_2D -> 3;
            case BuiltinOperator.FULLY_CONNECTED -> int4 ? 10 : inputs.length == 2 ? 6 : 4;
            case BuiltinOperator.QUANTIZE, BuiltinOperator.RESHAPE -> 1;
            // ADD, AVERAGE_POOL_2D, MAX_POOL_2D, MEAN, PAD, SOFTMAX, RELU, RELU6, DEQUANTIZE on INT8.
            default -> 2;
        };
    }

    private static int[] batched(Shape s) {
        return prepend(1, s.dims());
    }

    /** {@code dims} with {@code value} inserted at {@code at} (default 0). */
    private static int[] prepend(int value, int[] dims, int... at) {
        int pos = at.length == 0 ? 0 : at[0];
        int[] r = new int[dims.length + 1];
        System.arraycopy(dims, 0, r, 0, pos);
        r[pos] = value;
        System.arraycopy(dims, pos, r, pos + 1, dims.length - pos);
        return r;
    }
}
