package io.tinyptq.api.quant;

/**
 * What the simulated quantization stands for (the recipe key {@code quantization.target}).
 *
 * <ul>
 *   <li>{@link #SIMULATED}: the paper's Figure 1 placement, a quantizer on each layer's weight and on each layer's
 *       input activation, biases in float. The paper's reproductions use it; no integer runtime computes exactly
 *       this.</li>
 *   <li>{@link #TFLITE}: exactly what TFLite's integer kernels compute. Weights symmetric on the narrow grid
 *       {@code [-(2^(b-1)-1), 2^(b-1)-1]} (zero point 0), a quantizer on every tensor the TFLite graph materializes
 *       (the model input and each op's output after its fused activation), pooling, reshape and pad outputs sharing
 *       their input's quantizer as TFLite requires, the softmax output fixed at scale 1/256 and zero point -128 (the
 *       unsigned code 0), activation zero points integers and biases on their int32 grid {@code s_in * s_w[c]} once
 *       the pipeline has finished ({@link QuantizedModel#finishForTarget}). Such a model lowers to a fully-integer
 *       TFLite model without changing a value.</li>
 * </ul>
 */
public enum QuantTarget {
    SIMULATED,
    TFLITE
}
