package io.tinyptq.api.spi;

import io.tinyptq.api.model.Model;

/**
 * Step 1: transforms the full-precision model into a function-preserving, quantization-friendlier one
 * (cross-layer equalization, outlier channel splitting).
 *
 * <p>Contract: returns a new model (the input is not modified) whose float outputs equal the input model's
 * up to float rounding on any input; layer names that survive keep their meaning so that recipe overrides
 * still apply. May grow the graph (channel splitting).
 */
public interface Preprocessor<O extends Record> extends Plugin<O> {
    Model apply(Model model, O options, StageContext context);
}
