/**
 * The {@code reference} integer runtime: runs {@link io.tinyptq.api.integer.IntegerModel}s in integer arithmetic
 * exactly as TFLite's reference integer kernels do (int8 activations, int8/int4 weights, int32 biases,
 * fixed-point requantization).
 */
module io.tinyptq.integer {
    requires io.tinyptq.api;
    requires jdk.incubator.vector;

    exports io.tinyptq.integer;

    provides io.tinyptq.api.spi.IntegerRuntime with
            io.tinyptq.integer.ReferenceIntegerRuntime;
}
