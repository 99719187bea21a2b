/**
 * A small reverse-mode autodiff engine over the {@link io.tinyptq.backend.cpu.kernels} kernels: a {@link
 * io.tinyptq.backend.cpu.engine.Graph} of nodes built in code (or compiled from an {@code io.tinyptq.api.model.Model}),
 * buffers allocated once per (graph, maximum batch) and reused by every iteration, gradients with respect to
 * inputs, weights, biases, fake-quantization scales and zero points and AdaRound's V, and in-place optimizers.
 */
package io.tinyptq.backend.cpu.engine;
