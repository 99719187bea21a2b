package io.tinyptq.api.integer;

import java.util.Arrays;
import java.util.Objects;

/**
 * How an {@link IntegerModel} stores one tensor: its element type and TFLite's affine quantization
 * {@code real = scale[c] * (q - zeroPoint[c])}, per tensor ({@code scale.length == 1}) or per channel along
 * {@code axis} (TFLite's {@code quantized_dimension}). Scales are float32, as TFLite stores and uses them when it
 * derives its fixed-point multipliers. A {@link ElementType#FLOAT32} tensor has no scale (empty arrays).
 *
 * <p>{@code qmin..qmax} is the range the tensor's values are confined to: its type's whole range, or a narrower one
 * where an activation of fewer bits lives in an int8 tensor (a 4-bit activation on {@code [-128, -113]}); every op
 * writing the tensor clamps to it. TFLite files have no such field: only the C export can carry a narrower range.
 */
public record TensorQuant(ElementType type, float[] scale, int[] zeroPoint, int axis, int qmin, int qmax) {
    /** A tensor using its type's whole range. */
    public TensorQuant(ElementType type, float[] scale, int[] zeroPoint, int axis) {
        this(
                type,
                scale,
                zeroPoint,
                axis,
                type.isInteger() ? (int) type.min() : 0,
                type.isInteger() ? (int) type.max() : 0);
    }

    public TensorQuant {
        Objects.requireNonNull(type, "type");
        scale = scale.clone();
        zeroPoint = zeroPoint.clone();
        if (scale.length != zeroPoint.length) {
            throw new IllegalArgumentException("tensor quantization needs one zero point per scale, got " + scale.length
                    + " scales and " + zeroPoint.length + " zero points");
        }
        if (type.isInteger() && scale.length == 0) {
            throw new IllegalArgumentException(type + " tensor without a scale");
        }
        for (float s : scale) {
            if (!(s > 0f) || !Float.isFinite(s)) {
                throw new IllegalArgumentException("tensor scale must be finite and > 0, got " + s);
            }
        }
        for (int z : zeroPoint) {
            if (type.isInteger() && type != ElementType.INT32 && (z < type.min() || z > type.max())) {
                throw new IllegalArgumentException("zero point " + z + " outside the " + type + " range");
            }
        }
        if (type.isInteger() && (qmin < type.min() || qmax > type.max() || qmin >= qmax)) {
            throw new IllegalArgumentException(
                    "value range [" + qmin + ", " + qmax + "] is not a range within " + type);
        }
    }

    /** Whether the values are confined to less than the type's whole range. */
    public boolean narrowed() {
        return type.isInteger() && (qmin > type.min() || qmax < type.max());
    }

    /** This quantization with values confined to {@code [min, max]}. */
    public TensorQuant confinedTo(int min, int max) {
        return new TensorQuant(type, scale, zeroPoint, axis, min, max);
    }

    /** A per-tensor quantization. */
    public static TensorQuant perTensor(ElementType type, float scale, int zeroPoint) {
        return new TensorQuant(type, new float[] {scale}, new int[] {zeroPoint}, 0);
    }

    /** A float tensor (no quantization). */
    public static TensorQuant float32() {
        return new TensorQuant(ElementType.FLOAT32, new float[0], new int[0], 0);
    }

    public boolean perChannel() {
        return scale.length > 1;
    }

    public float scale(int channel) {
        return scale[perChannel() ? channel : 0];
    }

    public int zeroPoint(int channel) {
        return zeroPoint[perChannel() ? channel : 0];
    }

    @Override
    public float[] scale() {
        return scale.clone();
    }

    @Override
    public int[] zeroPoint() {
        return zeroPoint.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorQuant t
                && type == t.type
                && axis == t.axis
                && Arrays.equals(scale, t.scale)
                && Arrays.equals(zeroPoint, t.zeroPoint)
                && qmin == t.qmin
                && qmax == t.qmax;
    }

    @Override
    public int hashCode() {
        return Objects.hash(type, axis, Arrays.hashCode(scale), Arrays.hashCode(zeroPoint), qmin, qmax);
    }

    @Override
    public String toString() {
        return type
                + (scale.length == 0
                        ? ""
                        : " scale " + Arrays.toString(scale) + " zero point "
                                + Arrays.toString(zeroPoint) + (perChannel() ? " (axis " + axis + ")" : "")
                                + (narrowed() ? " values in [" + qmin + ", " + qmax + "]" : ""));
    }
}
