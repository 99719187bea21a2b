/**
 * One service-provider interface per pipeline stage (Zhuo et al. 2022, Figure 2):
 * {@link io.tinyptq.api.spi.Preprocessor}, {@link io.tinyptq.api.spi.QuantizerInitializer},
 * {@link io.tinyptq.api.spi.QuantOptimizer}, {@link io.tinyptq.api.spi.Postprocessor}; and for
 * {@link io.tinyptq.api.spi.ComputeBackend compute backends}, {@link io.tinyptq.api.spi.ModelFormat model formats}
 * and {@link io.tinyptq.api.spi.DatasetProvider datasets}. Every provider is a {@link io.tinyptq.api.spi.Plugin}.
 */
package io.tinyptq.api.spi;
