package io.tinyptq.api.spi;

import io.tinyptq.api.quant.QuantizedModel;

/**
 * Step 4: tunes the low-precision model end to end (e.g. bias tuning against the full-precision outputs).
 * Same contract as {@link QuantOptimizer}: in place, cancellable, reporting progress.
 */
public interface Postprocessor<O extends Record> extends Plugin<O> {
    void apply(QuantizedModel model, O options, StageContext context);
}
