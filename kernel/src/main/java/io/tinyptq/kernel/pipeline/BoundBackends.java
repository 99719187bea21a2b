package io.tinyptq.kernel.pipeline;

import io.tinyptq.api.model.Model;
import io.tinyptq.api.quant.QuantizedModel;
import io.tinyptq.api.spi.BackendInfo;
import io.tinyptq.api.spi.ComputeBackend;
import io.tinyptq.api.spi.ModelExecutor;
import io.tinyptq.api.spi.PluginKind;
import io.tinyptq.api.spi.ProgressListener;
import io.tinyptq.api.spi.StageContext.BoundBackend;
import io.tinyptq.api.spi.TrainingProblem;
import io.tinyptq.api.spi.TrainingSession;
import io.tinyptq.api.spi.TrainingSettings;
import io.tinyptq.kernel.registry.PluginRegistry;

/** Binds a backend plugin to options, so that callers need not know the plugin's option type. */
public final class BoundBackends {
    private BoundBackends() {}

    /** {@code plugin} with {@code options}, which must be of the plugin's {@link ComputeBackend#optionsType()}. */
    public static <O extends Record> BoundBackend of(ComputeBackend<O> plugin, Record options) {
        O typed = plugin.optionsType().cast(options);
        return new BoundBackend() {
            @Override
            public BackendInfo info() {
                return plugin.info(typed);
            }

            @Override
            public ModelExecutor compile(Model model, QuantizedModel quantized, int maxBatch) {
                return plugin.compile(model, quantized, maxBatch, typed);
            }

            @Override
            public TrainingSession train(TrainingProblem problem, TrainingSettings settings) {
                return plugin.train(problem, settings, typed);
            }
        };
    }

    /**
     * The backend a run uses: {@code plugin} bound to {@code options}; a backend other than cpu gets the cpu backend
     * behind it (when one is installed) for what it cannot start or run, each fallback said on {@code progress}
     * ({@link FallbackBackend}).
     */
    public static BoundBackend forRun(
            PluginRegistry registry, ComputeBackend<?> plugin, Record options, ProgressListener progress) {
        BoundBackend bound = of(plugin, options);
        if (plugin.name().equals("cpu") || !registry.names(PluginKind.BACKEND).contains("cpu")) {
            return bound;
        }
        ComputeBackend<?> cpu = registry.find(PluginKind.BACKEND, "cpu", ComputeBackend.class);
        return FallbackBackend.of(plugin.name(), bound, withDefaults(cpu), progress);
    }

    /** {@code plugin} with its {@link ComputeBackend#defaultOptions()}. */
    public static <O extends Record> BoundBackend withDefaults(ComputeBackend<O> plugin) {
        return of(plugin, plugin.defaultOptions());
    }
}
