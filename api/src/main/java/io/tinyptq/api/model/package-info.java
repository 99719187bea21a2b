/**
 * The model IR: a graph of typed {@link io.tinyptq.api.model.Op operations} over named tensors with per-sample
 * {@link io.tinyptq.api.model.Shape shapes}, and float32 {@link io.tinyptq.api.model.Tensor constants}.
 */
package io.tinyptq.api.model;
