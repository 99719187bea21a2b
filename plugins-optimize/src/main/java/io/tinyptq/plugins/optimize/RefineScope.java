package io.tinyptq.plugins.optimize;

/**
 * Which units {@code refine_sweeps} refines: those ending in a fully-connected layer ({@code DENSE}, the classifier,
 * where AdaRound's hardened rounding is furthest from its soft one and the search costs well under a second), or
 * {@code ALL}, also those ending in a convolution (each sweep costs about one forward pass of the layer over all
 * cached samples).
 */
public enum RefineScope { DENSE, ALL }
