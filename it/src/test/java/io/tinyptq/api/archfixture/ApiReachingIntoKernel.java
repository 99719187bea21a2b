package io.tinyptq.api.archfixture;

import io.tinyptq.kernel.registry.PluginRegistry;

/** A deliberate violation (api using the kernel), to prove the architecture rules catch it. Test code only. */
public final class ApiReachingIntoKernel {
    private ApiReachingIntoKernel() {}

    public static Object leak() {
        return PluginRegistry.class;
    }
}
