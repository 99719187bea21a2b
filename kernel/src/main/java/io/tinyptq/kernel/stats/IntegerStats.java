package io.tinyptq.kernel.stats;

import io.tinyptq.api.integer.ElementType;
import io.tinyptq.api.integer.IntegerModel;
import io.tinyptq.api.integer.TensorQuant;
import io.tinyptq.api.model.Model;
import io.tinyptq.api.model.Op;
import java.util.EnumMap;
import java.util.Map;

/**
 * The real storage of a fully-integer model, in bytes: every weight at the bits its file stores it with (INT4 two a
 * byte, INT8 one, ...), every bias as its stored type (INT32 in TFLite), and the activation peak of
 * {@link ModelStats} with each live tensor at its integer type's size (a float input or output counted as the
 * integer tensor it is converted to or from). Scales and zero points, the graph and the runtime's scratch buffers
 * are not counted.
 *
 * @param weightBytes         bytes of the layers' weights as stored
 * @param biasBytes           bytes of the layers' biases as stored
 * @param otherBytes          bytes of any other constant
 * @param weightElements      weight elements per stored type
 * @param biasElements        bias elements per stored type
 * @param peakActivationBytes peak bytes of live activation tensors (see {@link ModelStats#peakActivation()})
 */
public record IntegerStats(
        long weightBytes,
        long biasBytes,
        long otherBytes,
        Map<ElementType, Long> weightElements,
        Map<ElementType, Long> biasElements,
        long peakActivationBytes) {
    public IntegerStats {
        weightElements = Map.copyOf(weightElements);
        biasElements = Map.copyOf(biasElements);
    }

    public static IntegerStats of(IntegerModel integer) {
        Model m = integer.graph();
        long weights = 0;
        long biases = 0;
        long other = 0;
        Map<ElementType, Long> weightTypes = new EnumMap<>(ElementType.class);
        Map<ElementType, Long> biasTypes = new EnumMap<>(ElementType.class);
        for (Op op : m.ops()) {
            for (String p : op.parameters()) {
                TensorQuant q = integer.quant(p);
                long n = m.constant(p).shape().size();
                long bytes = (n * q.type().bits() + 7) / 8;
                if (op instanceof Op.Layer l && p.equals(l.weight())) {
                    weights += bytes;
                    weightTypes.merge(q.type(), n, Long::sum);
                } else if (op instanceof Op.Layer l && p.equals(l.bias())) {
                    biases += bytes;
                    biasTypes.merge(q.type(), n, Long::sum);
                } else {
                    other += bytes;
                }
            }
        }
        long peak = ModelStats.peak(m, t -> {
            TensorQuant q = integer.integerQuant(t);
            ElementType type = q == null ? ElementType.FLOAT32 : q.type();
            return (m.shape(t).size() * type.bits() + 7) / 8;
        })[0];
        return new IntegerStats(weights, biases, other, weightTypes, biasTypes, peak);
    }

    /** Bytes of every constant as stored: weights, biases and others. */
    public long parameterBytes() {
        return weightBytes + biasBytes + otherBytes;
    }

    /** The constants' bytes plus the activation peak: what a runtime without in-place reuse must hold. */
    public long peakMemoryBytes() {
        return parameterBytes() + peakActivationBytes;
    }
}
