package io.tinyptq.plugins.formats.tflite;

import static io.tinyptq.plugins.formats.tflite.BuiltinOperator.AVERAGE_POOL_2D;
import static io.tinyptq.plugins.formats.tflite.BuiltinOperator.CONV_2D;
import static io.tinyptq.plugins.formats.tflite.BuiltinOperator.EXPAND_DIMS;
import static io.tinyptq.plugins.formats.tflite.BuiltinOperator.MAX_POOL_2D;
import static io.tinyptq.plugins.formats.tflite.BuiltinOperator.RESHAPE;
import static io.tinyptq.plugins.formats.tflite.BuiltinOperator.SQUEEZE;

import io.tinyptq.plugins.formats.tflite.TfliteSchema.Operator;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The converter's 1-D layers in a TFLite graph, which {@link TfliteImporter} translates as the IR's
 * {@link io.tinyptq.api.model.Op.Conv1D} or a {@link io.tinyptq.api.model.Op.Pool} over {@code [W,C]}.
 */
final class OneDimensionalLayers {
    /**
     * A 1-row CONV_2D or pool between reshapes that is a 1-D layer: {@code input} {@code [1,W,C]} is what the
     * reshape before it reads, {@code output} {@code [1,W',C']} what the reshape after it writes.
     */
    record OneD(int input, int output) {}

    private final TfliteSchema.Tensor[] tensors;
    /** 1-D layers, by the index of their CONV_2D or pool operator. */
    private final Map<Integer, OneD> layers = new HashMap<>();
    /** Indices of the reshapes around a 1-D layer: translated as part of it. */
    private final Set<Integer> absorbed = new HashSet<>();

    /**
     * Finds the converter's 1-D layers: RESHAPE or EXPAND_DIMS {@code [1,W,C] -> [1,1,W,C]} read only by a CONV_2D
     * with a 1-row kernel, or an AVERAGE_POOL_2D / MAX_POOL_2D with a 1-row window, whose {@code [1,1,W',C']} output
     * is read only by a RESHAPE or SQUEEZE to {@code [1,W',C']}. Anything else is translated operator by operator.
     */
    OneDimensionalLayers(TfliteSchema.Model root, TfliteSchema.SubGraph graph, TfliteSchema.Tensor[] tensors) {
        this.tensors = tensors;
        int n = graph.operatorCount();
        int[] codes = new int[n];
        int[][] ins = new int[n][];
        int[][] outs = new int[n][];
        Map<Integer, List<Integer>> readers = new HashMap<>();
        for (int k = 0; k < n; k++) {
            Operator op = graph.operator(k);
            long opcodeIndex = op.opcodeIndex();
            codes[k] = opcodeIndex < root.operatorCodeCount()
                    ? root.operatorCode((int) opcodeIndex).builtinCode()
                    : -1;
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
            if ((codes[k] != RESHAPE && codes[k] != EXPAND_DIMS)
                    || ins[k].length < 1
                    || outs[k].length != 1
                    || !validTensor(ins[k][0])
                    || !validTensor(outs[k][0])) {
                continue;
            }
            int[] x = tensors[ins[k][0]].shape();
            int[] rows = tensors[outs[k][0]].shape();
            if (x.length != 3 || x[0] != 1 || !Arrays.equals(rows, new int[] {1, 1, x[1], x[2]})) {
                continue;
            }
            int j = soleReader(readers, outs[k][0]);
            if (j <= k
                    || ins[j].length < 1
                    || ins[j][0] != outs[k][0]
                    || outs[j].length != 1
                    || !validTensor(outs[j][0])
                    || !oneRow(codes[j], ins[j], graph.operator(j))) {
                continue;
            }
            int[] y = tensors[outs[j][0]].shape();
            int l = soleReader(readers, outs[j][0]);
            if (y.length != 4
                    || y[0] != 1
                    || y[1] != 1
                    || l <= j
                    || (codes[l] != RESHAPE && codes[l] != SQUEEZE)
                    || ins[l].length < 1
                    || ins[l][0] != outs[j][0]
                    || outs[l].length != 1
                    || !validTensor(outs[l][0])
                    || !Arrays.equals(tensors[outs[l][0]].shape(), new int[] {1, y[2], y[3]})) {
                continue;
            }
            layers.put(j, new OneD(ins[k][0], outs[l][0]));
            absorbed.add(k);
            absorbed.add(l);
        }
    }

    /** The 1-D layer whose CONV_2D or pool is operator {@code index}, or {@code null}. */
    OneD at(int index) {
        return layers.get(index);
    }

    /** Whether operator {@code index} is a reshape around a 1-D layer, translated as part of it. */
    boolean absorbed(int index) {
        return absorbed.contains(index);
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
            return in.length >= 2
                    && validTensor(in[1])
                    && tensors[in[1]].shape().length == 4
                    && tensors[in[1]].shape()[1] == 1;
        }
        if (code == AVERAGE_POOL_2D || code == MAX_POOL_2D) {
            TfliteSchema.Pool2DOptions o = op.optionsType() == TfliteSchema.OPTIONS_POOL2D
                    ? op.options(TfliteSchema.Pool2DOptions::new)
                    : null;
            return o != null && o.filterHeight() == 1 && o.strideH() == 1;
        }
        return false;
    }
}
