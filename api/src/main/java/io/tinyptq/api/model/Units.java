package io.tinyptq.api.model;

import io.tinyptq.api.InvalidModelException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Partitions a model into reconstruction units, from the graph alone (no model-specific code).
 *
 * <p>Layer granularity: one unit per layer with weights. Block granularity (BRECQ, Li et al. 2021): a residual
 * block is every op between a fork tensor and the {@link Op.Add} that joins its branches (the fork is the latest
 * tensor both operands descend from); a depthwise convolution whose output feeds, alone, a 1x1 convolution is a
 * separable pair; every other layer is a unit of its own. Non-layer ops outside blocks (pooling, reshape) are
 * not part of any unit: they are re-run as they are.
 */
public final class Units {
    private Units() {}

    public static List<Unit> layers(Model model) {
        List<Unit> units = new ArrayList<>();
        for (Op.Layer l : model.layers()) {
            units.add(new Unit(l.name(), "layer", l.input(), l.output(), List.of(l)));
        }
        return units;
    }

    public static List<Unit> blocks(Model model) {
        List<Unit> blocks = new ArrayList<>();
        Set<Op> taken = new HashSet<>();
        for (Op op : model.ops()) {
            if (op instanceof Op.Add add) {
                String fork = fork(model, add.a(), add.b());
                if (fork == null) {
                    continue;
                }
                List<Op> ops = between(model, fork, add);
                if (ops.stream().noneMatch(taken::contains) && ops.stream().anyMatch(Op.Layer.class::isInstance)) {
                    blocks.add(new Unit(ops.get(0).name() + ".." + add.name(), "residual", fork, add.output(), ops));
                    taken.addAll(ops);
                }
            }
        }
        for (Op op : model.ops()) {
            if (op instanceof Op.DepthwiseConv2D dw
                    && !taken.contains(dw)
                    && !model.outputs().contains(dw.output())
                    && model.consumers(dw.output()).size() == 1
                    && model.consumers(dw.output()).get(0) instanceof Op.Conv2D pw
                    && !taken.contains(pw)
                    && model.constant(pw.weight()).shape().dim(1) == 1
                    && model.constant(pw.weight()).shape().dim(2) == 1) {
                blocks.add(
                        new Unit(dw.name() + ".." + pw.name(), "separable", dw.input(), pw.output(), List.of(dw, pw)));
                taken.add(dw);
                taken.add(pw);
            }
        }
        for (Op.Layer l : model.layers()) {
            if (!taken.contains(l)) {
                blocks.add(new Unit(l.name(), "layer", l.input(), l.output(), List.of(l)));
            }
        }
        List<Op> order = model.ops();
        blocks.sort((u, v) -> Integer.compare(
                order.indexOf(u.ops().get(0)), order.indexOf(v.ops().get(0))));
        return blocks;
    }

    /** The latest tensor (in definition order) that both {@code a} and {@code b} descend from, or null. */
    static String fork(Model model, String a, String b) {
        Set<String> ancA = ancestors(model, a);
        Set<String> ancB = ancestors(model, b);
        String best = null;
        for (String t : model.activationShapes().keySet()) {
            if (ancA.contains(t) && ancB.contains(t)) {
                best = t;
            }
        }
        return best;
    }

    /** {@code t} and every activation tensor it is computed from. */
    static Set<String> ancestors(Model model, String t) {
        Set<String> out = new LinkedHashSet<>();
        List<String> todo = new ArrayList<>(List.of(t));
        while (!todo.isEmpty()) {
            String x = todo.remove(todo.size() - 1);
            if (out.add(x)) {
                model.producer(x).ifPresent(op -> todo.addAll(op.inputs()));
            }
        }
        return out;
    }

    /** Ops that descend from {@code from} and lead to {@code to}, {@code to} included, in graph order. */
    static List<Op> between(Model model, String from, Op to) {
        Set<String> leadsTo = ancestors(model, to.output());
        List<Op> ops = new ArrayList<>();
        Set<String> reached = new HashSet<>(Set.of(from));
        for (Op op : model.ops()) {
            if (op.inputs().stream().anyMatch(reached::contains) && leadsTo.contains(op.output())) {
                ops.add(op);
                reached.add(op.output());
            }
        }
        return ops;
    }

    /**
     * The unit as a model of its own: input {@code unit.input()}, output {@code unit.output()}, its ops and the
     * constants they read (shared, not copied). Fails if an op of the unit reads a tensor from outside it other than
     * the unit's input.
     */
    public static Model slice(Model model, Unit unit) {
        Model.Builder b =
                Model.builder(model.name() + "/" + unit.name()).input(unit.input(), model.shape(unit.input()));
        Set<String> defined = new HashSet<>(Set.of(unit.input()));
        for (Op op : unit.ops()) {
            for (String in : op.inputs()) {
                if (!defined.contains(in)) {
                    throw new InvalidModelException("unit '" + unit.name() + "': layer '" + op.name() + "' reads '" + in
                            + "', which comes from outside the unit");
                }
            }
            for (String p : op.parameters()) {
                b.constant(p, model.constant(p));
            }
            b.op(op);
            defined.add(op.output());
        }
        return b.output(unit.output()).build();
    }

    /** The model's logits: its single output, or the input of the softmax that produces it. */
    public static String logits(Model model) {
        String out = model.outputs().get(0);
        Op last = model.ops().get(model.ops().size() - 1);
        return last instanceof Op.Softmax sm && sm.output().equals(out) ? sm.input() : out;
    }

    /**
     * The single-input model up to its {@link #logits}: without the final softmax, so that distillation losses
     * (KL divergence of softmaxes) see the logits. The model itself when it has no final softmax.
     */
    public static Model toLogits(Model model) {
        String out = model.outputs().get(0);
        List<Op> ops = model.ops().stream()
                .filter(op -> !(op instanceof Op.Softmax && op.output().equals(out)))
                .toList();
        return slice(
                model,
                new Unit("logits", "model", model.inputs().keySet().iterator().next(), logits(model), ops));
    }
}
