package io.tinyptq.plugins.optimize;

/**
 * Reconstruction units: single layers, blocks found in the graph (see {@link io.tinyptq.api.model.Units}), or the
 * whole model as one unit (BRECQ's network-wise granularity: the loss is the model output's, so every variable
 * trains end to end against the full-precision output).
 */
public enum Granularity {
    LAYER,
    BLOCK,
    MODEL
}
