package io.tinyptq.kernel;

import com.google.inject.AbstractModule;
import io.tinyptq.kernel.registry.PluginRegistry;

/**
 * Guice wiring of the kernel's own services. Plugins are found by {@link java.util.ServiceLoader}, not by
 * Guice; the registry arrives here already built, so {@code configure()} does no I/O and has no branches.
 */
final class KernelModule extends AbstractModule {
    private final PluginRegistry registry;

    KernelModule(PluginRegistry registry) {
        this.registry = registry;
    }

    @Override
    protected void configure() {
        bind(PluginRegistry.class).toInstance(registry);
    }
}
