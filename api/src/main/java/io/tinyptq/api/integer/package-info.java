/**
 * Fully-integer models (deployment): {@link io.tinyptq.api.integer.IntegerModel}, the graph with every tensor's
 * storage type and affine quantization as TFLite defines them, and the stored integers of its constants. Integer
 * runtimes ({@link io.tinyptq.api.spi.IntegerRuntime}) execute them; model formats read and write them.
 */
package io.tinyptq.api.integer;
