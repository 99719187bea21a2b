package io.tinyptq.integer;

import io.tinyptq.api.integer.ElementType;
import io.tinyptq.api.integer.IntegerModel;
import io.tinyptq.api.integer.TensorQuant;
import io.tinyptq.api.model.Model;
import io.tinyptq.api.model.Op;
import io.tinyptq.api.model.Shape;
import io.tinyptq.api.model.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Builds small {@link IntegerModel}s from integers: each constant is given by its stored integers and scales (the
 * float graph gets the dequantized values), each activation tensor by its scale and zero point.
 */
final class IntModelBuilder {
    private final Model.Builder graph;
    private final Map<String, TensorQuant> quant = new LinkedHashMap<>();
    private final Map<String, int[]> values = new LinkedHashMap<>();
    private String last;

    IntModelBuilder(String name) {
        graph = Model.builder(name);
    }

    IntModelBuilder input(String name, Shape shape, float scale, int zeroPoint) {
        graph.input(name, shape);
        quant.put(name, TensorQuant.perTensor(ElementType.INT8, scale, zeroPoint));
        return this;
    }

    /** A weight constant, symmetric, per channel along {@code axis} when several scales are given. */
    IntModelBuilder weight(String name, Shape shape, int axis, int[] q, float... scales) {
        return constant(name, shape, axis, q, ElementType.INT8, scales);
    }

    IntModelBuilder weight4(String name, Shape shape, int axis, int[] q, float... scales) {
        return constant(name, shape, axis, q, ElementType.INT4, scales);
    }

    IntModelBuilder bias(String name, int[] q, float... scales) {
        return constant(name, Shape.of(q.length), 0, q, ElementType.INT32, scales);
    }

    private IntModelBuilder constant(String name, Shape shape, int axis, int[] q, ElementType type, float[] scales) {
        float[] deq = new float[q.length];
        int inner = 1;
        for (int i = axis + 1; i < shape.rank(); i++) {
            inner *= shape.dim(i);
        }
        for (int i = 0; i < q.length; i++) {
            int c = scales.length == 1 ? 0 : (i / inner) % shape.dim(axis);
            deq[i] = scales[c] * q[i];
        }
        graph.constant(name, new Tensor(shape, deq));
        quant.put(name, new TensorQuant(type, scales, new int[scales.length], scales.length == 1 ? 0 : axis));
        values.put(name, q.clone());
        return this;
    }

    IntModelBuilder op(Op op, float outScale, int outZeroPoint) {
        graph.op(op);
        quant.put(op.output(), TensorQuant.perTensor(ElementType.INT8, outScale, outZeroPoint));
        last = op.output();
        return this;
    }

    IntegerModel build() {
        graph.output(last);
        return new IntegerModel(graph.build(), quant, values, Map.of());
    }

    /** Runs one sample given as stored integers of the input, returns the stored integers of the output. */
    static int[] runInts(IntegerModel m, int... q) {
        return runInts(m, new ReferenceIntegerRuntime().defaultOptions(), q);
    }

    /** {@link #runInts(IntegerModel, int...)} with the given runtime options. */
    static int[] runInts(IntegerModel m, ReferenceIntegerRuntime.Options options, int... q) {
        String in = m.graph().inputs().keySet().iterator().next();
        TensorQuant iq = m.quant(in);
        float[] x = new float[q.length];
        for (int i = 0; i < q.length; i++) {
            x[i] = iq.scale(0) * (q[i] - iq.zeroPoint(0));
        }
        try (var exec = new ReferenceIntegerRuntime().compile(m, 1, options)) {
            float[] y = exec.forward(x, 1, io.tinyptq.api.spi.ModelExecutor.ActivationListener.NONE);
            TensorQuant oq = m.quant(m.graph().outputs().get(0));
            int[] out = new int[y.length];
            for (int i = 0; i < y.length; i++) {
                out[i] = Math.round(y[i] / oq.scale(0)) + oq.zeroPoint(0);
            }
            return out;
        }
    }
}
