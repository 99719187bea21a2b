package io.tinyptq.backend.cpu.engine;

import io.tinyptq.api.model.Activation;
import io.tinyptq.api.model.Model;
import io.tinyptq.api.model.Op;
import io.tinyptq.api.model.Padding;
import io.tinyptq.api.model.Shape;
import io.tinyptq.backend.cpu.kernels.Parallel;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A {@link Graph} compiled from an api {@link Model}: one graph value per activation tensor (by name), one
 * trainable {@link Param} per constant, holding a <em>copy</em> of the constant's data (training never modifies
 * the model). Fused activations become separate ReLU/ReLU6 nodes.
 *
 * <p>Covers Conv2D, DepthwiseConv2D, Conv1D (padding VALID or SAME; Conv2D also EXPLICIT), FullyConnected,
 * Add, Act, Pool (avg/max), Mean, Reshape, Pad, Softmax and BatchNorm (inference mode until
 * {@link Graph#training} turns batch statistics on): every {@link Op} record of the IR. Add losses with
 * {@link Graph#crossEntropy}/{@link Graph#mse} on {@link #value} and {@link Graph#minimize}.
 */
public final class ModelGraph {
    private final Graph graph;
    private final Map<String, Value> values;
    private final Map<String, Param> params;

    private ModelGraph(Graph graph, Map<String, Value> values, Map<String, Param> params) {
        this.graph = graph;
        this.values = Collections.unmodifiableMap(values);
        this.params = Collections.unmodifiableMap(params);
    }

    /**
     * Compiles {@code model} for batches of up to {@code maxBatch} samples.
     *
     * @throws IllegalArgumentException for a padding the engine does not support on an op (EXPLICIT on
     *                                  depthwise, 1-D or pooling ops), naming the layer
     */
    public static ModelGraph compile(Model model, int maxBatch, Parallel par) {
        Graph g = new Graph(maxBatch, par);
        Map<String, Value> values = new LinkedHashMap<>();
        Map<String, Param> params = new LinkedHashMap<>();
        for (var in : model.inputs().entrySet()) {
            values.put(in.getKey(), g.input(in.getKey(), in.getValue().dims()));
        }
        for (var c : model.constants().entrySet()) {
            params.put(c.getKey(), g.param(c.getKey(), c.getValue().data().clone(), c.getValue().shape().dims()));
        }
        for (Op op : model.ops()) {
            Value out = switch (op) {
                case Op.Conv2D c -> activation(g, c.padding().kind() == Padding.Kind.EXPLICIT
                        ? g.conv2d(values.get(c.input()), use(g, params, c.weight()), use(g, params, c.bias()),
                                c.strideH(), c.strideW(), c.padding().top(), c.padding().bottom(), c.padding().left(),
                                c.padding().right())
                        : g.conv2d(values.get(c.input()), use(g, params, c.weight()), use(g, params, c.bias()),
                                c.strideH(), c.strideW(), padding(c, c.padding())), c.activation());
                case Op.DepthwiseConv2D d -> activation(g, g.depthwiseConv2d(values.get(d.input()),
                        use(g, params, d.weight()), use(g, params, d.bias()), d.multiplier(), d.strideH(),
                        d.strideW(), padding(d, d.padding())), d.activation());
                case Op.Conv1D c -> activation(g, g.conv1d(values.get(c.input()), use(g, params, c.weight()),
                        use(g, params, c.bias()), c.stride(), padding(c, c.padding())), c.activation());
                case Op.FullyConnected f -> activation(g, g.dense(values.get(f.input()), use(g, params, f.weight()),
                        use(g, params, f.bias())), f.activation());
                case Op.Add a -> activation(g, g.add(values.get(a.a()), values.get(a.b())), a.activation());
                case Op.Act a -> a.activation() == Activation.NONE
                        ? g.reshape(values.get(a.input()), values.get(a.input()).shape())
                        : activation(g, values.get(a.input()), a.activation());
                case Op.Pool p -> activation(g, g.pool(values.get(p.input()), p.kind() == Op.PoolKind.MAX, p.kh(),
                        p.kw(), p.strideH(), p.strideW(), padding(p, p.padding())), p.activation());
                case Op.Mean m -> g.mean(values.get(m.input()));
                case Op.Reshape r -> g.reshape(values.get(r.input()), r.shape().dims());
                case Op.Pad p -> g.pad(values.get(p.input()), p.before(), p.after());
                case Op.Softmax s -> g.softmax(values.get(s.input()));
                case Op.BatchNorm bn -> {
                    params.get(bn.mean()).trainable(false);
                    params.get(bn.variance()).trainable(false);
                    yield activation(g, g.batchNorm(values.get(bn.input()), use(g, params, bn.gamma()),
                            use(g, params, bn.beta()), use(g, params, bn.mean()), use(g, params, bn.variance()),
                            bn.epsilon(), 0.99f), bn.activation());
                }
            };
            Shape expected = model.shape(op.output());
            if (!java.util.Arrays.equals(expected.dims(), out.shape())) {
                throw new IllegalStateException("layer '" + op.name() + "': engine shape "
                        + java.util.Arrays.toString(out.shape()) + " differs from the model's " + expected);
            }
            values.put(op.output(), out);
        }
        return new ModelGraph(g, values, params);
    }

    public Graph graph() {
        return graph;
    }

    /** The graph value of an activation tensor (input or op output) of the model. */
    public Value value(String tensor) {
        Value v = values.get(tensor);
        if (v == null) {
            throw new IllegalArgumentException("no activation tensor '" + tensor + "'");
        }
        return v;
    }

    /** The parameter holding (a copy of) a constant of the model. */
    public Param param(String constant) {
        Param p = params.get(constant);
        if (p == null) {
            throw new IllegalArgumentException("no constant '" + constant + "'");
        }
        return p;
    }

    public Map<String, Param> params() {
        return params;
    }

    private static Value use(Graph g, Map<String, Param> params, String constant) {
        return constant == null ? null : g.use(params.get(constant));
    }

    private static Value activation(Graph g, Value v, Activation a) {
        return switch (a) {
            case NONE -> v;
            case RELU -> g.relu(v);
            case RELU6 -> g.relu6(v);
        };
    }

    private static Graph.Padding padding(Op op, Padding p) {
        return switch (p.kind()) {
            case SAME -> Graph.Padding.SAME;
            case VALID -> Graph.Padding.VALID;
            case EXPLICIT -> throw new IllegalArgumentException("layer '" + op.name() + "' (" + op.type()
                    + "): explicit padding " + p + " is supported on conv2d only; insert a Pad op");
        };
    }
}
