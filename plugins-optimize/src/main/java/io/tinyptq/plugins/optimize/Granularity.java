package io.tinyptq.plugins.optimize;

/** Reconstruction units: single layers, or blocks found in the graph (see {@link io.tinyptq.api.model.Units}). */
public enum Granularity { LAYER, BLOCK }
