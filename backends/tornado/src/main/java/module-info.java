/**
 * The TornadoVM compute backend: layer-wise AdaRound reconstruction as one TornadoVM task graph per step, with the
 * unit's data resident on an OpenCL device (a GPU, an FPGA, or PoCL's CPU device). The kernels it launches are
 * {@link io.tinyptq.backend.kernels.ReconKernels}' bodies inside {@code @Parallel} loops. Built by the
 * {@code tornado} Maven profile only; needs TornadoVM's runtime and JVM flags at run time.
 */
module io.tinyptq.backend.tornado {
    requires io.tinyptq.api;
    requires io.tinyptq.backend.kernels;
    requires tornado.api;

    // TornadoVM reads the task methods' bytecode and resolves them through reflection.
    opens io.tinyptq.backend.tornado;

    provides io.tinyptq.api.spi.ComputeBackend with
            io.tinyptq.backend.tornado.TornadoBackend;
}
