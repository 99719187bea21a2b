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
            @Option(description = "reconstruction unit: layer, block, or model (the whole network, end to end)")
            Granularity granularity,

            @Option(description = "Adam steps per unit", min = 1, max = 10_000_000)
            int iterations,

            @Option(description = "Adam learning rate for weights and biases", min = 1e-9, max = 10)
            double learningRate,

            @Option(description = "calibration samples per step", min = 1, max = 65536)
            int batchSize,

            @Option(description = "keep activation quantizers active inside the unit")
            boolean quantizeActivations,

            @Option(description = "cap on a unit's cached inputs and targets, in MiB", min = 1)
            int maxCacheMb,

            @Option(description = ReconstructionLoss.OPTION) ReconstructionLoss loss,

            @Option(
                    description = "the biases' own Adam learning rate (AdaQuant's code: 1e-2, its weights 1e-4); 0 = "
                            + "learning_rate, one Adam for weights and biases",
                    min = 0,
                    max = 10)
            double biasLearningRate) {

        /** Options whose biases step with the weights' learning rate. */
        public Options(
                Granularity granularity,
                int iterations,
                double learningRate,
                int batchSize,
                boolean quantizeActivations,
                int maxCacheMb,
                ReconstructionLoss loss) {
            this(granularity, iterations, learningRate, batchSize, quantizeActivations, maxCacheMb, loss, 0);
        }
    }

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
        return new Options(Granularity.LAYER, 20_000, 1e-5, 32, true, 1024, ReconstructionLoss.MSE);
    }

    @Override
    public void optimize(QuantizedModel model, Options o, StageContext context) {
        Reconstruction.run(
                model,
                new Reconstruction.Settings(
                        name(),
                        o.granularity(),
                        o.iterations(),
                        o.learningRate(),
                        o.batchSize(),
                        o.quantizeActivations(),
                        o.maxCacheMb(),
                        Set.of(Variable.WEIGHTS),
                        Reconstruction.Schedule.NONE,
                        0,
                        1,
                        o.loss(),
                        false,
                        0,
                        o.biasLearningRate()),
                o,
                context);
    }
}
