package io.tinyptq.sweep.spark;

import io.tinyptq.kernel.Kernel;

/**
 * One kernel per executor JVM, discovered on its first task and shared by the tasks after it: plugin discovery and
 * wiring once, not once per trial. The kernel is safe to share between the tasks an executor runs side by side.
 */
final class ExecutorKernel {
    private static Kernel kernel;

    private ExecutorKernel() {}

    static synchronized Kernel get() {
        if (kernel == null) {
            kernel = Kernel.discover();
        }
        return kernel;
    }
}
