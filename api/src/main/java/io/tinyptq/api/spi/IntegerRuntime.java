package io.tinyptq.api.spi;

import io.tinyptq.api.integer.IntegerModel;

/**
 * Executes {@link IntegerModel}s in integer arithmetic. The returned executor takes and returns float samples, so
 * evaluation and comparison code stays the same: each model input is quantized with its integer quantization
 * ({@code q = clamp(round(x / scale) + zeroPoint)}), the graph runs on integers, and the first output is returned
 * dequantized ({@code scale * (q - zeroPoint)}); the listener sees every tensor dequantized the same way.
 */
public interface IntegerRuntime<O extends Record> extends Plugin<O> {

    ModelExecutor compile(IntegerModel model, int maxBatch, O options);
}
