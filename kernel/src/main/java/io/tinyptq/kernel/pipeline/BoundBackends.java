package io.tinyptq.kernel.pipeline;

import io.tinyptq.api.model.Model;
import io.tinyptq.api.quant.QuantizedModel;
import io.tinyptq.api.spi.BackendInfo;
import io.tinyptq.api.spi.ComputeBackend;
import io.tinyptq.api.spi.ModelExecutor;
import io.tinyptq.api.spi.StageContext.BoundBackend;
import io.tinyptq.api.spi.TrainingProblem;
import io.tinyptq.api.spi.TrainingSession;
import io.tinyptq.api.spi.TrainingSettings;

/** Binds a backend plugin to options, so that callers need not know the plugin's option type. */
public final class BoundBackends {
    private BoundBackends() {
    }

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

    /** {@code plugin} with its {@link ComputeBackend#defaultOptions()}. */
    public static <O extends Record> BoundBackend withDefaults(ComputeBackend<O> plugin) {
        return of(plugin, plugin.defaultOptions());
    }
}
