package io.tinyptq.deploy.c;

import io.tinyptq.api.InvalidModelException;
import io.tinyptq.api.integer.ElementType;
import io.tinyptq.api.integer.FixedPoint;
import io.tinyptq.api.integer.IntegerModel;
import io.tinyptq.api.integer.KernelParams;
import io.tinyptq.api.integer.TensorQuant;
import io.tinyptq.api.model.Activation;
import io.tinyptq.api.model.Model;
import io.tinyptq.api.model.Op;
import io.tinyptq.api.model.Shape;
import io.tinyptq.deploy.c.memory.ArenaPlanner;
import io.tinyptq.deploy.c.memory.BitPacking;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code model.c} and {@code model.h} of an {@link IntegerModel}: every tensor laid out in one arena by the
 * {@link ArenaPlanner} at the bit-width its range needs, every constant packed, and one runtime call per op with
 * the fixed-point parameters TFLite's Prepare functions derive ({@link KernelParams}), exactly as tinyptq's integer
 * interpreter runs the model in TFLite's reference arithmetic.
 */
final class ModelSource {
    /** Arena offsets are multiples of this many bytes. */
    static final int ALIGNMENT = 4;

    /** How an activation tensor is stored: {@code bits} 8 is int8, fewer is {@code code - lo} packed. */
    record Storage(String tensor, int size, int bits, int lo, long bytes) {}

    private final IntegerModel model;
    private final Model graph;
    private final Map<String, Storage> storage = new LinkedHashMap<>();
    private final Map<String, Integer> weightBits = new LinkedHashMap<>();
    private final Map<String, String> cNames = new LinkedHashMap<>();
    private final StringBuilder constants = new StringBuilder();
    private final StringBuilder calls = new StringBuilder();
    private long constantBytes;
    private final List<ArenaPlanner.Buffer> buffers;
    private final ArenaPlanner.Plan plan;
    private final String input;
    private final String output;

    ModelSource(IntegerModel model) {
        this.model = model;
        this.graph = model.graph();
        if (graph.inputs().size() != 1 || graph.outputs().size() != 1) {
            throw new InvalidModelException(
                    "integer model '" + graph.name() + "': C export needs one input and one" + " output, it has "
                            + graph.inputs().size() + " and " + graph.outputs().size());
        }
        this.input = graph.inputs().keySet().iterator().next();
        this.output = graph.outputs().get(0);
        for (var e : graph.activationShapes().entrySet()) {
            storage.put(e.getKey(), storageOf(e.getKey(), e.getValue()));
        }
        this.buffers = lifetimes();
        this.plan = ArenaPlanner.plan(buffers, ALIGNMENT);
        int i = 0;
        for (Op op : graph.ops()) {
            emit(op, i++);
        }
    }

    private Storage storageOf(String tensor, Shape shape) {
        TensorQuant q = activationQuant(tensor);
        int levels = q.qmax() - q.qmin() + 1;
        int bits = levels >= 256 ? 8 : BitPacking.unsignedBits(levels);
        int lo = bits == 8 ? -128 : q.qmin();
        return new Storage(tensor, shape.size(), bits, lo, BitPacking.bytes(shape.size(), bits));
    }

    /** Lifetimes in steps: 0 loads the input, op {@code k} is step {@code k + 1}, the last step copies the output. */
    private List<ArenaPlanner.Buffer> lifetimes() {
        Map<String, int[]> life = new LinkedHashMap<>();
        life.put(input, new int[] {0, 0});
        List<Op> ops = graph.ops();
        for (int k = 0; k < ops.size(); k++) {
            Op op = ops.get(k);
            for (String in : op.inputs()) {
                int[] l = life.get(in);
                if (l != null) {
                    l[1] = Math.max(l[1], k + 1);
                }
            }
            life.put(op.output(), new int[] {k + 1, k + 1});
        }
        life.get(output)[1] = ops.size() + 1;
        List<ArenaPlanner.Buffer> buffers = new ArrayList<>();
        for (var e : life.entrySet()) {
            buffers.add(new ArenaPlanner.Buffer(
                    e.getKey(), storage.get(e.getKey()).bytes(), e.getValue()[0], e.getValue()[1]));
        }
        return buffers;
    }

    private TensorQuant activationQuant(String tensor) {
        TensorQuant q = model.integerQuant(tensor);
        if (q == null || q.type() != ElementType.INT8 || q.perChannel()) {
            throw new InvalidModelException("integer model '" + graph.name() + "': tensor '" + tensor
                    + "' must be int8 quantized per tensor for C export, it is " + q);
        }
        return q;
    }

    private String where(Op op) {
        return "integer model '" + graph.name() + "', layer '" + op.name() + "' (" + op.type() + ")";
    }

    /** A C identifier for a tensor or layer: its name's letters and digits, made unique. */
    private String cName(String name) {
        return cNames.computeIfAbsent(name, n -> {
            String base = n.replaceAll("[^A-Za-z0-9]", "_").toLowerCase(Locale.ROOT);
            String id = "t" + cNames.size() + "_" + (base.length() > 40 ? base.substring(0, 40) : base);
            return id;
        });
    }

    private String tensor(String name) {
        return "&" + cName(name);
    }

    private void emit(Op op, int index) {
        calls.append("    /* ")
                .append(op.type())
                .append(' ')
                .append(op.name().replace("*/", "* /"))
                .append(" */\n");
        switch (op) {
            case Op.Conv2D c -> {
                Shape in = graph.shape(c.input());
                Shape w = graph.constant(c.weight()).shape();
                Shape out = graph.shape(c.output());
                convolution(
                        c,
                        in.dim(0),
                        in.dim(1),
                        in.dim(2),
                        out.dim(0),
                        out.dim(1),
                        w.dim(0),
                        w.dim(1),
                        w.dim(2),
                        c.strideH(),
                        c.strideW(),
                        c.padding().before(in.dim(0), w.dim(1), c.strideH(), true),
                        c.padding().before(in.dim(1), w.dim(2), c.strideW(), false),
                        1,
                        "rt_conv2d");
            }
            case Op.Conv1D c -> {
                Shape in = graph.shape(c.input());
                Shape w = graph.constant(c.weight()).shape();
                Shape out = graph.shape(c.output());
                convolution(
                        c,
                        1,
                        in.dim(0),
                        in.dim(1),
                        1,
                        out.dim(0),
                        w.dim(0),
                        1,
                        w.dim(1),
                        1,
                        c.stride(),
                        0,
                        c.padding().before(in.dim(0), w.dim(1), c.stride(), false),
                        1,
                        "rt_conv2d");
            }
            case Op.DepthwiseConv2D d -> {
                Shape in = graph.shape(d.input());
                Shape w = graph.constant(d.weight()).shape();
                Shape out = graph.shape(d.output());
                convolution(
                        d,
                        in.dim(0),
                        in.dim(1),
                        in.dim(2),
                        out.dim(0),
                        out.dim(1),
                        w.dim(2),
                        w.dim(0),
                        w.dim(1),
                        d.strideH(),
                        d.strideW(),
                        d.padding().before(in.dim(0), w.dim(0), d.strideH(), true),
                        d.padding().before(in.dim(1), w.dim(1), d.strideW(), false),
                        d.multiplier(),
                        "rt_depthwise");
            }
            case Op.FullyConnected f -> {
                Shape w = graph.constant(f.weight()).shape();
                String id = cName(f.name());
                String[] p = layerConstants(f, w.dim(0), id);
                calls.append(String.format(
                        "    rt_fully_connected(%d, %d, %d, &%s_w, %s, &%s_rq, %s, %s);%n",
                        w.dim(1),
                        w.dim(0),
                        activationQuant(f.input()).zeroPoint(0),
                        id,
                        p[0],
                        id,
                        tensor(f.input()),
                        tensor(f.output())));
            }
            case Op.Add a -> {
                TensorQuant oq = activationQuant(a.output());
                int[] r = range(a.activation(), oq);
                KernelParams.Add p =
                        KernelParams.Add.of(activationQuant(a.a()), activationQuant(a.b()), oq, r[0], r[1]);
                String id = cName(a.name());
                constants.append(String.format(
                        "static const rt_add_params %s_p = {%d, %d, %d, %d, %d, %d, %d, %d," + " %d, %d, %d, %d};%n",
                        id,
                        p.leftShift(),
                        p.in1Offset(),
                        p.in1Multiplier(),
                        p.in1Shift(),
                        p.in2Offset(),
                        p.in2Multiplier(),
                        p.in2Shift(),
                        p.outOffset(),
                        p.outMultiplier(),
                        p.outShift(),
                        p.lo(),
                        p.hi()));
                constantBytes += 12 * 4;
                calls.append(String.format(
                        "    rt_add(&%s_p, %s, %s, %s);%n", id, tensor(a.a()), tensor(a.b()), tensor(a.output())));
            }
            case Op.Act a -> {
                KernelParams.ReluX p =
                        KernelParams.ReluX.of(a.activation(), activationQuant(a.input()), activationQuant(a.output()));
                calls.append(String.format(
                        "    rt_relu_x(%d, %d, %d, %d, %d, %d, %s, %s);%n",
                        p.inputZero(),
                        p.multiplier(),
                        p.shift(),
                        p.outputZero(),
                        p.lo(),
                        p.hi(),
                        tensor(a.input()),
                        tensor(a.output())));
            }
            case Op.Pool p -> pool(p);
            case Op.Mean m -> {
                TensorQuant iq = activationQuant(m.input());
                TensorQuant oq = activationQuant(m.output());
                Shape in = graph.shape(m.input());
                int c = in.dim(-1);
                int spatial = in.size() / c;
                FixedPoint.Multiplier mm = KernelParams.mean(iq.scale(0), oq.scale(0), spatial);
                calls.append(String.format(
                        "    rt_mean(%d, %d, %d, %d, %d, %d, %d, %d, %s, %s);%n",
                        spatial,
                        c,
                        iq.zeroPoint(0),
                        mm.multiplier(),
                        mm.shift(),
                        oq.zeroPoint(0),
                        oq.qmin(),
                        oq.qmax(),
                        tensor(m.input()),
                        tensor(m.output())));
            }
            case Op.Reshape r -> {
                requireSameQuant(r, r.input(), r.output());
                calls.append(String.format("    rt_copy(%s, %s);%n", tensor(r.input()), tensor(r.output())));
            }
            case Op.Pad p -> pad(p);
            case Op.Softmax s -> {
                TensorQuant iq = activationQuant(s.input());
                TensorQuant oq = activationQuant(s.output());
                if (oq.zeroPoint(0) != -128 || Math.abs(oq.scale(0) - 1f / 256) > 0.001f / 256) {
                    throw new InvalidModelException(where(s) + ": TFLite's int8 softmax needs output scale 1/256 and"
                            + " zero point -128, got " + oq);
                }
                int depth = graph.shape(s.input()).dim(-1);
                KernelParams.Softmax p = KernelParams.Softmax.of(1.0, iq.scale(0));
                calls.append(String.format(
                        "    rt_softmax(%d, %d, %d, %d, %d, %s, %s);%n",
                        graph.shape(s.input()).size() / depth,
                        depth,
                        p.inputMultiplier(),
                        p.inputLeftShift(),
                        p.diffMin(),
                        tensor(s.input()),
                        tensor(s.output())));
            }
            case Op.BatchNorm b ->
                throw new InvalidModelException(
                        where(b) + ": integer models have no BatchNorm (fold it into the preceding layer)");
        }
    }

    private int[] range(Activation act, TensorQuant out) {
        return FixedPoint.activationRange(act, out.scale(0), out.zeroPoint(0), out.qmin(), out.qmax());
    }

    private void requireSameQuant(Op op, String in, String out) {
        TensorQuant iq = activationQuant(in);
        TensorQuant oq = activationQuant(out);
        if (iq.scale(0) != oq.scale(0) || iq.zeroPoint(0) != oq.zeroPoint(0)) {
            throw new InvalidModelException(where(op) + ": TFLite's int8 kernel keeps the input quantization, but"
                    + " input " + in + " has " + iq + " and output " + out + " has " + oq);
        }
    }

    private void convolution(
            Op.Layer layer,
            int h,
            int w,
            int cin,
            int oh,
            int ow,
            int cout,
            int kh,
            int kw,
            int sh,
            int sw,
            int padTop,
            int padLeft,
            int multiplier,
            String kernel) {
        String id = cName(layer.name());
        String[] p = layerConstants(layer, cout, id);
        constants.append(String.format(
                "static const rt_conv_shape %s_s = {%d, %d, %d, %d, %d, %d, %d, %d, %d, %d," + " %d, %d, %d, %d};%n",
                id,
                h,
                w,
                cin,
                oh,
                ow,
                cout,
                kh,
                kw,
                sh,
                sw,
                padTop,
                padLeft,
                multiplier,
                activationQuant(layer.input()).zeroPoint(0)));
        constantBytes += 14 * 4;
        calls.append(String.format(
                "    %s(&%s_s, &%s_w, %s, &%s_rq, %s, %s);%n",
                kernel, id, id, p[0], id, tensor(layer.input()), tensor(layer.output())));
    }

    /**
     * A layer's weights (minus their zero points, packed at the fewest bits that hold them), bias, per-channel
     * multipliers and shifts; returns the C expression of the bias pointer.
     */
    private String[] layerConstants(Op.Layer layer, int channels, String id) {
        TensorQuant wq = model.quant(layer.weight());
        if (wq.type() != ElementType.INT8 && wq.type() != ElementType.INT4) {
            throw new InvalidModelException(where(layer) + ": weights must be int8 or int4, they are " + wq.type());
        }
        int[] v = model.values(layer.weight()).clone();
        int size = v.length / channels;
        int min = 0;
        int max = 0;
        for (int i = 0; i < v.length; i++) {
            int c = layer instanceof Op.DepthwiseConv2D ? i % channels : i / size;
            v[i] -= wq.zeroPoint(wq.perChannel() ? c : 0);
            min = Math.min(min, v[i]);
            max = Math.max(max, v[i]);
        }
        int bits = Math.max(2, BitPacking.signedBits(min, max));
        if (bits > 8) {
            throw new InvalidModelException(where(layer) + ": weights minus their zero point span [" + min + ", " + max
                    + "], more than 8 bits");
        }
        weightBits.put(layer.name(), bits);
        byte[] packed = bits == 8 ? int8(v) : BitPacking.packSigned(v, bits);
        constants
                .append("/* ")
                .append(layer.name().replace("*/", "* /"))
                .append(": ")
                .append(v.length)
                .append(" weights at ")
                .append(bits)
                .append(" bits */\n");
        constants
                .append("static const uint8_t ")
                .append(id)
                .append("_wd[")
                .append(Math.max(1, packed.length))
                .append("] = {")
                .append(bytes(packed))
                .append("};\n");
        constants
                .append("static const rt_weights ")
                .append(id)
                .append("_w = {")
                .append(id)
                .append("_wd, ")
                .append(bits)
                .append("};\n");
        constantBytes += packed.length;
        String bias = "0";
        if (layer.bias() != null) {
            if (model.quant(layer.bias()).type() != ElementType.INT32) {
                throw new InvalidModelException(where(layer) + ": bias must be int32, it is "
                        + model.quant(layer.bias()).type());
            }
            int[] b = model.values(layer.bias());
            constants
                    .append("static const int32_t ")
                    .append(id)
                    .append("_b[")
                    .append(b.length)
                    .append("] = {")
                    .append(ints(b))
                    .append("};\n");
            constantBytes += 4L * b.length;
            bias = id + "_b";
        }
        TensorQuant iq = activationQuant(layer.input());
        TensorQuant oq = activationQuant(layer.output());
        int[] mult = new int[channels];
        int[] shift = new int[channels];
        KernelParams.convolution(iq.scale(0), wq, oq.scale(0), mult, shift);
        int[] r = range(layer.activation(), oq);
        constants
                .append("static const int32_t ")
                .append(id)
                .append("_m[")
                .append(channels)
                .append("] = {")
                .append(ints(mult))
                .append("};\n");
        constants
                .append("static const int8_t ")
                .append(id)
                .append("_sh[")
                .append(channels)
                .append("] = {")
                .append(ints(shift))
                .append("};\n");
        constants.append(String.format(
                "static const rt_requant %s_rq = {%s_m, %s_sh, %d, %d, %d};%n",
                id, id, id, oq.zeroPoint(0), r[0], r[1]));
        constantBytes += 5L * channels + 5 * 4;
        return new String[] {bias};
    }

    private void pool(Op.Pool p) {
        requireSameQuant(p, p.input(), p.output());
        KernelParams.Pool g = KernelParams.Pool.of(p, graph.shape(p.input()), graph.shape(p.output()));
        int[] r = range(p.activation(), activationQuant(p.output()));
        calls.append(String.format(
                "    rt_pool(%d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %s, %s);%n",
                p.kind() == Op.PoolKind.AVG ? 1 : 0,
                g.h(),
                g.w(),
                g.c(),
                g.kh(),
                g.kw(),
                g.strideH(),
                g.strideW(),
                g.padTop(),
                g.padLeft(),
                g.outH(),
                g.outW(),
                r[0],
                r[1],
                tensor(p.input()),
                tensor(p.output())));
    }

    private void pad(Op.Pad p) {
        requireSameQuant(p, p.input(), p.output());
        int[] in = graph.shape(p.input()).dims();
        int[] out = graph.shape(p.output()).dims();
        if (in.length < 1 || in.length > 3) {
            throw new InvalidModelException(
                    where(p) + ": C export pads tensors of rank 1 to 3 per sample, got " + graph.shape(p.input()));
        }
        int[] i3 = {1, 1, 1};
        int[] o3 = {1, 1, 1};
        int[] b3 = {0, 0, 0};
        for (int k = 0; k < in.length; k++) {
            i3[3 - in.length + k] = in[k];
            o3[3 - in.length + k] = out[k];
            b3[3 - in.length + k] = p.before()[k];
        }
        calls.append(String.format(
                "    rt_pad(%d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %s, %s);%n",
                i3[0],
                i3[1],
                i3[2],
                b3[0],
                b3[1],
                b3[2],
                o3[0],
                o3[1],
                o3[2],
                activationQuant(p.output()).zeroPoint(0),
                tensor(p.input()),
                tensor(p.output())));
    }

    private static byte[] int8(int[] v) {
        byte[] b = new byte[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = (byte) v[i];
        }
        return b;
    }

    private static String bytes(byte[] b) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < b.length; i++) {
            s.append(i % 24 == 0 ? "\n    " : " ").append(b[i] & 0xff).append(i + 1 < b.length ? "," : "");
        }
        return b.length == 0 ? "0" : s.append('\n').toString();
    }

    private static String ints(int[] v) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < v.length; i++) {
            s.append(i % 12 == 0 ? "\n    " : " ")
                    .append(v[i] == Integer.MIN_VALUE ? "INT32_MIN" : v[i])
                    .append(i + 1 < v.length ? "," : "");
        }
        return s.append('\n').toString();
    }

    /** {@code model.h}. */
    String header() {
        return "/* " + graph.name().replace("*/", "* /") + ", written by tinyptq. */\n"
                + "#ifndef TINYPTQ_MODEL_H\n#define TINYPTQ_MODEL_H\n#include <stdint.h>\n\n"
                + "#define TINYPTQ_INPUT_SIZE " + storage.get(input).size() + "\n"
                + "#define TINYPTQ_OUTPUT_SIZE " + storage.get(output).size() + "\n"
                + "#define TINYPTQ_ARENA_BYTES " + Math.max(1, plan.arenaBytes()) + "\n\n"
                + "/* Runs the model on one sample: input and output as int8 codes, one per element. */\n"
                + "void tinyptq_model_run(const int8_t *input, int8_t *output);\n\n#endif\n";
    }

    /** {@code model.c}. */
    String source() {
        StringBuilder s = new StringBuilder();
        s.append("/* ")
                .append(graph.name().replace("*/", "* /"))
                .append(", written by tinyptq: ")
                .append(graph.ops().size())
                .append(" ops, ")
                .append(constantBytes)
                .append(" bytes of constants, a ")
                .append(plan.arenaBytes())
                .append("-byte arena. */\n");
        s.append("#include \"model.h\"\n#include \"tinyptq_rt.h\"\n\n");
        s.append("static uint32_t arena[(TINYPTQ_ARENA_BYTES + 3) / 4];\n");
        s.append("#define ARENA ((uint8_t *) arena)\n\n");
        for (Storage st : storage.values()) {
            s.append(String.format(
                    "static const rt_tensor %s = {ARENA + %d, %d, %d, %d}; /* %s */%n",
                    cName(st.tensor()),
                    plan.offsets().get(st.tensor()),
                    st.size(),
                    st.bits(),
                    st.lo(),
                    st.tensor().replace("*/", "* /")));
        }
        s.append('\n').append(constants).append('\n');
        s.append("void tinyptq_model_run(const int8_t *input, int8_t *output) {\n");
        s.append("    rt_input(").append(tensor(input)).append(", input);\n");
        s.append(calls);
        s.append("    rt_output(").append(tensor(output)).append(", output);\n}\n");
        return s.toString();
    }

    long constantBytes() {
        return constantBytes;
    }

    List<ArenaPlanner.Buffer> buffers() {
        return buffers;
    }

    ArenaPlanner.Plan plan() {
        return plan;
    }

    Map<String, Storage> storage() {
        return storage;
    }

    Map<String, Integer> weightBits() {
        return weightBits;
    }
}
