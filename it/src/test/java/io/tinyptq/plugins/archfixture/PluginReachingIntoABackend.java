package io.tinyptq.plugins.archfixture;

import io.tinyptq.backend.cpu.CpuBackend;

/** A deliberate violation (an algorithm reaching past the training session into a backend). Test code only. */
public final class PluginReachingIntoABackend {
    private PluginReachingIntoABackend() {}

    public static Object backend() {
        return new CpuBackend();
    }
}
