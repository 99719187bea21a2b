package io.tinyptq.api.spi;

import io.tinyptq.api.model.Tensor;
import io.tinyptq.api.quant.QuantParams;
import io.tinyptq.api.quant.QuantizerSpec;

/**
 * Step 2: chooses each quantizer's clipping range and hence its scale and zero-point (Eq. 2).
 *
 * <p>A recipe picks one initializer for weights and one for activations (they may differ, as in the paper's
 * Figure 4). Weights are seen whole; activations are streamed batch by batch through an
 * {@link ActivationObserver}, so the calibration set never has to fit in memory at once.
 */
public interface QuantizerInitializer<O extends Record> extends Plugin<O> {

    /**
     * Parameters for a weight tensor: one pair per channel along {@code spec.channelAxis()} when per channel,
     * else one. Must not modify {@code weight}.
     */
    QuantParams initWeights(Tensor weight, QuantizerSpec spec, O options);

    /** A fresh observer for one activation tensor. */
    ActivationObserver newObserver(QuantizerSpec spec, O options);
}
