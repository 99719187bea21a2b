package io.tinyptq.api.model;

import io.tinyptq.api.InvalidModelException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * An immutable model graph: named inputs, constants (weights and biases) and operations in topological order.
 *
 * <p>Construction validates the whole graph: every tensor an op reads exists before it, every name is written
 * once, shapes agree (each op's {@link Op#inferShape}), and every constant is finite. Errors name the layer.
 * Transformations (equalization, channel splitting) build a new model with {@link #toBuilder()}; constants are
 * shared with the original unless replaced.
 */
public final class Model {
    private final String name;
    private final Map<String, Shape> inputs;
    private final List<String> outputs;
    private final Map<String, Tensor> constants;
    private final List<Op> ops;
    private final Map<String, Shape> shapes;
    private final Map<String, Op> producers;
    private final Map<String, List<Op>> consumers;

    private Model(Builder b) {
        this.name = b.name;
        this.inputs = Collections.unmodifiableMap(new LinkedHashMap<>(b.inputs));
        this.outputs = List.copyOf(b.outputs);
        this.constants = Collections.unmodifiableMap(new LinkedHashMap<>(b.constants));
        this.ops = List.copyOf(b.ops);
        Map<String, Shape> sh = new LinkedHashMap<>(inputs);
        Map<String, Op> prod = new LinkedHashMap<>();
        Map<String, List<Op>> cons = new LinkedHashMap<>();
        java.util.Set<String> layerNames = new java.util.HashSet<>();
        if (inputs.isEmpty()) {
            throw new InvalidModelException("model '" + name + "' has no inputs");
        }
        for (var e : constants.entrySet()) {
            if (inputs.containsKey(e.getKey())) {
                throw new InvalidModelException(
                        "model '" + name + "': '" + e.getKey() + "' is both an input and a constant");
            }
            e.getValue().requireFinite("constant '" + e.getKey() + "'");
        }
        for (Op op : ops) {
            if (!layerNames.add(op.name())) {
                throw new InvalidModelException("model '" + name + "': two layers are named '" + op.name() + "'");
            }
            for (String in : op.inputs()) {
                if (!sh.containsKey(in)) {
                    throw new InvalidModelException("layer '" + op.name() + "' (" + op.type() + ") reads '" + in
                            + "', which no input or earlier layer produces");
                }
                cons.computeIfAbsent(in, k -> new ArrayList<>()).add(op);
            }
            for (String p : op.parameters()) {
                if (!constants.containsKey(p)) {
                    throw new InvalidModelException("layer '" + op.name() + "' (" + op.type() + ") needs constant '" + p
                            + "', which the model does not hold");
                }
            }
            if (sh.containsKey(op.output()) || constants.containsKey(op.output())) {
                throw new InvalidModelException(
                        "layer '" + op.name() + "' writes '" + op.output() + "', which is already defined");
            }
            Shape out = op.inferShape(n -> {
                Shape s = sh.get(n);
                return s != null ? s : constants.get(n).shape();
            });
            sh.put(op.output(), out);
            prod.put(op.output(), op);
        }
        for (String o : outputs) {
            if (!sh.containsKey(o)) {
                throw new InvalidModelException("model '" + name + "': output '" + o + "' is never produced");
            }
        }
        if (outputs.isEmpty()) {
            throw new InvalidModelException("model '" + name + "' has no outputs");
        }
        cons.replaceAll((k, v) -> List.copyOf(v));
        this.shapes = Collections.unmodifiableMap(sh);
        this.producers = Collections.unmodifiableMap(prod);
        this.consumers = Collections.unmodifiableMap(cons);
    }

    public static Builder builder(String name) {
        return new Builder(name);
    }

    public Builder toBuilder() {
        Builder b = new Builder(name);
        b.inputs.putAll(inputs);
        b.outputs.addAll(outputs);
        b.constants.putAll(constants);
        b.ops.addAll(ops);
        return b;
    }

    public String name() {
        return name;
    }

    /** Input tensor names and their per-sample shapes, in order. */
    public Map<String, Shape> inputs() {
        return inputs;
    }

    public List<String> outputs() {
        return outputs;
    }

    public Map<String, Tensor> constants() {
        return constants;
    }

    public Tensor constant(String tensor) {
        Tensor t = constants.get(tensor);
        if (t == null) {
            throw new InvalidModelException("model '" + name + "' has no constant '" + tensor + "'");
        }
        return t;
    }

    public List<Op> ops() {
        return ops;
    }

    /** The layers with weights, in graph order. */
    public List<Op.Layer> layers() {
        return ops.stream()
                .filter(Op.Layer.class::isInstance)
                .map(Op.Layer.class::cast)
                .toList();
    }

    public Op op(String layerName) {
        return ops.stream()
                .filter(o -> o.name().equals(layerName))
                .findFirst()
                .orElseThrow(() -> new InvalidModelException("model '" + name + "' has no layer '" + layerName + "'"));
    }

    /** Per-sample shape of an activation tensor (input or op output). */
    public Shape shape(String tensor) {
        Shape s = shapes.get(tensor);
        if (s == null) {
            throw new InvalidModelException("model '" + name + "' has no activation tensor '" + tensor + "'");
        }
        return s;
    }

    /** Per-sample shapes of every activation tensor, in definition order. */
    public Map<String, Shape> activationShapes() {
        return shapes;
    }

    public Optional<Op> producer(String tensor) {
        return Optional.ofNullable(producers.get(tensor));
    }

    public List<Op> consumers(String tensor) {
        return consumers.getOrDefault(tensor, List.of());
    }

    @Override
    public String toString() {
        return "Model[" + name + ", " + ops.size() + " ops, " + constants.size() + " constants]";
    }

    /** Collects a graph; {@link #build()} validates it. */
    public static final class Builder {
        private final String name;
        private final Map<String, Shape> inputs = new LinkedHashMap<>();
        private final List<String> outputs = new ArrayList<>();
        private final Map<String, Tensor> constants = new LinkedHashMap<>();
        private final List<Op> ops = new ArrayList<>();

        private Builder(String name) {
            this.name = name;
        }

        public Builder input(String tensor, Shape shape) {
            inputs.put(tensor, shape);
            return this;
        }

        public Builder output(String tensor) {
            outputs.add(tensor);
            return this;
        }

        /** Adds or replaces a constant. */
        public Builder constant(String tensor, Tensor value) {
            constants.put(tensor, value);
            return this;
        }

        /** Adds or replaces several constants, in the map's order. */
        public Builder constants(Map<String, Tensor> values) {
            constants.putAll(values);
            return this;
        }

        public Builder op(Op op) {
            ops.add(op);
            return this;
        }

        /** Replaces the op with the same layer name (keeps its position). */
        public Builder replaceOp(Op op) {
            for (int i = 0; i < ops.size(); i++) {
                if (ops.get(i).name().equals(op.name())) {
                    ops.set(i, op);
                    return this;
                }
            }
            throw new InvalidModelException("model '" + name + "' has no layer '" + op.name() + "' to replace");
        }

        public Model build() {
            return new Model(this);
        }
    }
}
