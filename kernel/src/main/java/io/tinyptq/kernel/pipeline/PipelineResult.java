package io.tinyptq.kernel.pipeline;

import io.tinyptq.api.model.Model;
import io.tinyptq.api.quant.QuantizedModel;

/**
 * What a pipeline run produced: the preprocessed full-precision model, the quantized model and its
 * provenance.
 */
public record PipelineResult(Model fpModel, QuantizedModel quantized, Provenance provenance) {}
