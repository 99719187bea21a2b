package io.tinyptq.api.spi;

import io.tinyptq.api.quant.QuantizedModel;

/**
 * Step 3: reconstructs one variable of Eq. 1 (scale/zero-point, weights, bits or rounding) layer by layer or
 * block by block, minimizing the error between full-precision and quantized unit outputs on calibration data.
 *
 * <p>Contract: runs on an initialized model; updates quantizer parameters and/or the model's weights in
 * place; checks {@link StageContext#checkCancelled()} at least once per unit and reports progress.
 */
public interface QuantOptimizer<O extends Record> extends Plugin<O> {
    void optimize(QuantizedModel model, O options, StageContext context);
}
