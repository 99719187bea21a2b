package io.tinyptq.kernel.deploy;

import io.tinyptq.api.integer.TensorQuant;
import io.tinyptq.api.spi.Dataset;
import io.tinyptq.kernel.data.DatasetView;

/**
 * A dataset whose samples are put on the model input's int8 grid as TFLite's QUANTIZE op puts them
 * ({@code round(x / s)} in float32, ties away from zero, plus the zero point, clamped to int8) and dequantized
 * again. The simulation quantizes its input with Eq. 1's round half to even; fed these samples it computes the
 * same input codes as the device, so the two are compared on what the device really sees.
 */
public record DeviceInputs(Dataset base, TensorQuant input) implements DatasetView {
    @Override
    public void read(int index, float[] dst, int offset) {
        base.read(index, dst, offset);
        float s = input.scale(0);
        int z = input.zeroPoint(0);
        int n = sampleShape().size();
        for (int i = offset; i < offset + n; i++) {
            dst[i] = s * (code(dst[i], input) - z);
        }
    }

    /**
     * TFLite's {@code AffineQuantize} of one value to int8, clamped to the tensor's range (int8's, or the narrower one
     * of an input quantized to fewer bits).
     */
    public static int code(float x, TensorQuant input) {
        float v = x / input.scale(0);
        long r = v >= 0 ? (long) Math.floor(v + 0.5) : -(long) Math.floor(-v + 0.5);
        return (int) Math.min(Math.max(r + input.zeroPoint(0), input.qmin()), input.qmax());
    }
}
