/**
 * The CPU compute backend: float32 forward/backward kernels over flat NHWC arrays
 * ({@link io.tinyptq.backend.cpu.kernels}) and a small reverse-mode autodiff engine on top of them
 * ({@link io.tinyptq.backend.cpu.engine}).
 */
module io.tinyptq.backend.cpu {
    requires io.tinyptq.api;
    requires jdk.incubator.vector;

    exports io.tinyptq.backend.cpu;
    exports io.tinyptq.backend.cpu.kernels;
    exports io.tinyptq.backend.cpu.engine;

    provides io.tinyptq.api.spi.ComputeBackend with
            io.tinyptq.backend.cpu.CpuBackend;
}
