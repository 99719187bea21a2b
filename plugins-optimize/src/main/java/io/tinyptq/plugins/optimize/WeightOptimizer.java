package io.tinyptq.plugins.optimize;

import io.tinyptq.api.options.Option;
import io.tinyptq.api.quant.QuantizedModel;
import io.tinyptq.api.spi.QuantOptimizer;
import io.tinyptq.api.spi.StageContext;
import io.tinyptq.api.spi.Variable;
import java.util.Set;

/**
 * {@code opt_weights}: AdaQuant (Hubara et al., "Accurate Post Training Quantization With Small Calibration
 * Sets", ICML 2021): the unit's float weights and biases are trained through the straight-through estimator
 * of Eq. 1's rounding to minimize its output MSE; quantizer parameters stay fixed.
 */
public final class WeightOptimizer implements QuantOptimizer<WeightOptimizer.Options> {

    public record Options(
            @Option(description = ReconstructionOptions.GRANULARITY)
            Granularity granularity,

            @Option(description = ReconstructionOptions.ITERATIONS, min = 1, max = 10_000_000)
            int iterations,

            @Option(description = "Adam learning rate for weights and biases", min = 1e-9, max = 10)
            double learningRate,

            @Option(description = ReconstructionOptions.BATCH_SIZE, min = 1, max = 65536)
            int batchSize,

            @Option(description = ReconstructionOptions.MAX_CACHE_MB, min = 1)
            int maxCacheMb,

            @Option(description = ReconstructionOptions.ACTIVATIONS)
            UnitActivations activations,

            @Option(description = ReconstructionLoss.OPTION) ReconstructionLoss loss,

            @Option(
                    description = "the biases' own Adam learning rate (AdaQuant's code: 1e-2, its weights "
                            + "1e-4); 0 = learning_rate, one Adam for weights and biases",
                    min = 0,
                    max = 10)
            double biasLearningRate)
            implements ReconstructionOptions {}

    @Override
    public String name() {
        return "weights";
    }

    @Override
    public String description() {
        return "AdaQuant: learn float weights and biases through the STE (Hubara et al. 2021)";
    }

    @Override
    public Class<Options> optionsType() {
        return Options.class;
    }

    @Override
    public Options defaultOptions() {
        return new Options(
                Granularity.LAYER, 20_000, 1e-5, 32, 1024, UnitActivations.QUANTIZED, ReconstructionLoss.MSE, 0);
    }

    @Override
    public void optimize(QuantizedModel model, Options o, StageContext context) {
        Reconstruction.run(
                model,
                new Reconstruction.Settings(
                        name(), o, Set.of(Variable.WEIGHTS), Reconstruction.Schedule.NONE, 0, o.biasLearningRate()),
                context);
    }
}
