/**
 * Reconstruction kernels in the loop-parallel style accelerators compile: static bodies over flat arrays, one call
 * per element of an index space, run here by plain Java loops ({@link io.tinyptq.backend.kernels.KernelSession}'s
 * {@code java} form, the oracle the tornado backend is checked against) and by the tornado backend inside
 * TornadoVM {@code @Parallel} loops. Depends on the API alone, so the default build compiles and tests it.
 */
module io.tinyptq.backend.kernels {
    requires io.tinyptq.api;

    exports io.tinyptq.backend.kernels;
    // An accelerator runtime (TornadoVM) reads the kernel bodies' bytecode to compile them.
    opens io.tinyptq.backend.kernels;
}
