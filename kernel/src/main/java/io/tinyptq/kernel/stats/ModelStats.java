package io.tinyptq.kernel.stats;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tinyptq.api.model.Model;
import io.tinyptq.api.model.Op;
import io.tinyptq.api.model.Shape;
import io.tinyptq.kernel.deploy.DeviceMemory;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.ToLongFunction;

/**
 * Size and cost figures of a model, per sample, as the paper (Zhuo et al. 2022) reports them.
 *
 * <ul>
 *   <li><b>MACs</b>: multiply-accumulates of convolution, depthwise and fully-connected layers,
 *       {@code output elements x kernel taps x input channels per group} ({@link Op.Layer#macs}).</li>
 *   <li><b>MACs, Table 1 convention</b> ({@link #macsTable1()}): Table 1 adds, on top of the MACs, one operation
 *       per output element of every convolution with a bias (its bias add; depthwise included, fully-connected
 *       layers not) and, for every average pool, its input and output elements. With this convention the MLPerf
 *       Tiny models give exactly Table 1's figures: Res8 12,591,808; DS-CNN 2,736,832; MobileNetV1 7,723,776.
 *       Global average pooling written as a mean counts as an average pool.</li>
 *   <li><b>Parameters</b>: every weight and bias value the layers hold (Table 1's "Num Param.").</li>
 *   <li><b>Peak activation</b> ({@link #peakActivation()}), in elements: ops run one after another in graph
 *       order; a tensor occupies its own buffer from the moment the op writing it starts (model inputs: from the
 *       start) until the last op reading it has finished (model outputs: until the end). The peak is the largest
 *       total of the buffers live while one op runs, i.e. its inputs, its output and every tensor kept for a later
 *       op (a residual branch). Nothing is computed in place, so a reshape counts as a copy. This is what a
 *       runtime without in-place reuse must allocate; Table 1's peak-activation column follows a convention the
 *       paper does not state, and neither this one nor the "largest input+output of one layer" reproduces it.</li>
 *   <li><b>BOPs</b> ({@link #bops}): {@code MACs x b_w x b_a}, the paper's bit operations.</li>
 *   <li><b>Peak memory</b> ({@link #peakMemoryBits}): {@code params x b_w + peak activation x b_a} bits, the
 *       paper's memory figure with every weight and bias stored at {@code b_w} bits.</li>
 * </ul>
 *
 * @param model          the model's name
 * @param layers         every op, in graph order
 * @param macs           total multiply-accumulates
 * @param macsTable1     MACs plus the additions Table 1 counts
 * @param params         total parameters
 * @param peakActivation peak live activation elements (see above)
 * @param peakOp         the op during which the peak is reached
 */
public record ModelStats(
        String model,
        List<LayerStats> layers,
        long macs,
        long macsTable1,
        long params,
        long peakActivation,
        String peakOp) {
    public ModelStats {
        layers = List.copyOf(layers);
    }

    public static ModelStats of(Model model) {
        List<LayerStats> layers = new ArrayList<>();
        long macs = 0;
        long extra = 0;
        long params = 0;
        for (Op op : model.ops()) {
            List<Shape> in = op.inputs().stream().map(model::shape).toList();
            Shape out = model.shape(op.output());
            long opMacs = 0;
            long opParams = 0;
            for (String p : op.parameters()) {
                opParams += model.constant(p).shape().size();
            }
            if (op instanceof Op.Layer layer) {
                opMacs = layer.macs(model.constant(layer.weight()).shape(), out);
            }
            long table1 = switch (op) {
                // One bias add per output element of a convolution (Table 1 leaves fully-connected biases out).
                case Op.Conv2D c when c.bias() != null -> out.size();
                case Op.DepthwiseConv2D d when d.bias() != null -> out.size();
                case Op.Conv1D c when c.bias() != null -> out.size();
                // An average pool: one operation per input element (the sums) and per output element (the divisions).
                case Op.Pool p
                when p.kind() == Op.PoolKind.AVG -> (long) in.getFirst().size() + out.size();
                case Op.Mean m -> (long) in.getFirst().size() + out.size();
                default -> 0L;
            };
            layers.add(new LayerStats(op.name(), op.type(), in, out, opMacs, opParams, out.size(), table1));
            macs += opMacs;
            extra += table1;
            params += opParams;
        }
        long[] peak = peak(model);
        return new ModelStats(
                model.name(),
                layers,
                macs,
                macs + extra,
                params,
                peak[0],
                model.ops().isEmpty() ? "" : model.ops().get((int) peak[1]).name());
    }

    /** {peak elements, index of the op during which it is reached}; see the class comment for the convention. */
    private static long[] peak(Model model) {
        return peak(model, t -> model.shape(t).size());
    }

    /** {peak of {@code size} over the live tensors, index of the op during which it is reached}. */
    static long[] peak(Model model, ToLongFunction<String> size) {
        List<Op> ops = model.ops();
        Map<String, Integer> lastUse = new HashMap<>();
        for (int i = 0; i < ops.size(); i++) {
            for (String t : ops.get(i).inputs()) {
                lastUse.put(t, i);
            }
        }
        Set<String> outputs = new HashSet<>(model.outputs());
        long live = 0;
        for (String in : model.inputs().keySet()) {
            live += size.applyAsLong(in);
        }
        long peak = live;
        int at = 0;
        for (int i = 0; i < ops.size(); i++) {
            Op op = ops.get(i);
            live += size.applyAsLong(op.output());
            if (live > peak) {
                peak = live;
                at = i;
            }
            for (String t : new HashSet<>(op.inputs())) {
                if (lastUse.get(t) == i && !outputs.contains(t)) {
                    live -= size.applyAsLong(t);
                }
            }
            if (!lastUse.containsKey(op.output()) && !outputs.contains(op.output())) {
                live -= size.applyAsLong(op.output());
            }
        }
        return new long[] {peak, at};
    }

    /** Bit operations at the given bit-widths: {@code MACs x wbits x abits}. */
    public long bops(int wbits, int abits) {
        return macs * wbits * abits;
    }

    /** Memory for weights and the activation peak: {@code params x wbits + peakActivation x abits} bits. */
    public long peakMemoryBits(int wbits, int abits) {
        return params * wbits + peakActivation * abits;
    }

    /**
     * The figures as one line of JSON ({@code tinyptq info --json}): {@code model}, {@code macs},
     * {@code macs_table1}, {@code params}, {@code peak_activation}, {@code peak_activation_op}, {@code wbits},
     * {@code abits}, {@code bops}, {@code peak_memory_bits} and {@code layers} (name, op, inputs, output, macs,
     * params, activation, table1).
     */
    public String toJson(int wbits, int abits) {
        return toJson(wbits, abits, null);
    }

    /**
     * As {@link #toJson(int, int)}, plus, for a fully-integer model ({@code integer} non-null), an object
     * {@code integer} with its stored sizes in bytes: {@code weight_bytes}, {@code bias_bytes}, {@code other_bytes},
     * {@code parameter_bytes}, {@code peak_activation_bytes}, {@code peak_memory_bytes}, and the element counts per
     * stored type {@code weight_types} and {@code bias_types} (e.g. {@code {"INT8": 77306}}).
     */
    public String toJson(int wbits, int abits, IntegerStats integer) {
        return toJson(wbits, abits, integer, List.of());
    }

    /**
     * As {@link #toJson(int, int, IntegerStats)}, plus {@code device_memory}: the model's memory as each code
     * generator lays it out ({@link DeviceMemory#putJson}).
     */
    public String toJson(int wbits, int abits, IntegerStats integer, List<DeviceMemory> devices) {
        ObjectMapper json = new ObjectMapper();
        ObjectNode n = json.createObjectNode();
        n.put("model", model);
        n.put("macs", macs);
        n.put("macs_table1", macsTable1);
        n.put("params", params);
        n.put("peak_activation", peakActivation);
        n.put("peak_activation_op", peakOp);
        n.put("wbits", wbits);
        n.put("abits", abits);
        n.put("bops", bops(wbits, abits));
        n.put("peak_memory_bits", peakMemoryBits(wbits, abits));
        if (integer != null) {
            ObjectNode i = n.putObject("integer");
            i.put("weight_bytes", integer.weightBytes());
            i.put("bias_bytes", integer.biasBytes());
            i.put("other_bytes", integer.otherBytes());
            i.put("parameter_bytes", integer.parameterBytes());
            i.put("peak_activation_bytes", integer.peakActivationBytes());
            i.put("peak_memory_bytes", integer.peakMemoryBytes());
            ObjectNode wt = i.putObject("weight_types");
            integer.weightElements().entrySet().stream()
                    .sorted(Map.Entry.comparingByKey())
                    .forEach(e -> wt.put(e.getKey().name(), e.getValue()));
            ObjectNode bt = i.putObject("bias_types");
            integer.biasElements().entrySet().stream()
                    .sorted(Map.Entry.comparingByKey())
                    .forEach(e -> bt.put(e.getKey().name(), e.getValue()));
        }
        DeviceMemory.putJson(n, devices);
        ArrayNode rows = n.putArray("layers");
        for (LayerStats l : layers) {
            ObjectNode row = rows.addObject();
            row.put("name", l.name());
            row.put("op", l.type());
            ArrayNode ins = row.putArray("inputs");
            l.inputs().forEach(s -> ins.add(dims(json, s)));
            row.set("output", dims(json, l.output()));
            row.put("macs", l.macs());
            row.put("params", l.params());
            row.put("activation", l.activation());
            row.put("table1", l.table1());
        }
        try {
            return json.writeValueAsString(n);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a JSON tree of numbers and strings always serializes", e);
        }
    }

    private static ArrayNode dims(ObjectMapper json, Shape s) {
        ArrayNode a = json.createArrayNode();
        for (int d : s.dims()) {
            a.add(d);
        }
        return a;
    }
}
