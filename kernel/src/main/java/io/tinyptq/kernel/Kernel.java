package io.tinyptq.kernel;

import com.google.inject.Guice;
import com.google.inject.Injector;
import io.tinyptq.kernel.pipeline.PipelineRunner;
import io.tinyptq.kernel.recipe.RecipeLoader;
import io.tinyptq.kernel.recipe.RecipeSchema;
import io.tinyptq.kernel.registry.PluginRegistry;

/**
 * The entry point of an application embedding tinyptq: the plugin registry and the services built on it.
 *
 * <pre>{@code
 * Kernel kernel = Kernel.discover();
 * Recipe recipe = kernel.recipes().load(Path.of("recipes/adaround.yaml"));
 * PipelineResult result = kernel.runner().run(recipe, model, calibration, RunOptions.defaults());
 * }</pre>
 */
public final class Kernel {
    private final Injector injector;

    private Kernel(PluginRegistry registry) {
        this.injector = Guice.createInjector(new KernelModule(registry));
    }

    /** A kernel over every plugin {@link java.util.ServiceLoader} finds. */
    public static Kernel discover() {
        return new Kernel(PluginRegistry.discover());
    }

    /** A kernel over exactly these plugins (auto-discovery off). */
    public static Kernel of(PluginRegistry registry) {
        return new Kernel(registry);
    }

    public PluginRegistry registry() {
        return injector.getInstance(PluginRegistry.class);
    }

    public RecipeLoader recipes() {
        return injector.getInstance(RecipeLoader.class);
    }

    public RecipeSchema schema() {
        return injector.getInstance(RecipeSchema.class);
    }

    public PipelineRunner runner() {
        return injector.getInstance(PipelineRunner.class);
    }
}
