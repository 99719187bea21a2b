package io.tinyptq.api.spi;

import io.tinyptq.api.quant.QuantParams;

/**
 * Accumulates statistics of one activation tensor over calibration batches, in bounded memory, then yields
 * quantizer parameters. Not thread-safe: the runner calls it from one thread.
 */
public interface ActivationObserver {

    /** Sees {@code length} values starting at {@code offset} (a whole batch of the tensor, any layout). */
    void observe(float[] values, int offset, int length);

    /** Parameters from everything observed; fails if nothing was observed. */
    QuantParams result();
}
