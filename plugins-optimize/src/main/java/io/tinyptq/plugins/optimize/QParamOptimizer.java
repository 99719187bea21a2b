package io.tinyptq.plugins.optimize;

import io.tinyptq.api.options.Option;
import io.tinyptq.api.quant.QuantizedModel;
import io.tinyptq.api.spi.QuantOptimizer;
import io.tinyptq.api.spi.StageContext;
import io.tinyptq.api.spi.Variable;
import java.util.Set;

/**
 * {@code opt_qparam}: LSQ (Esser et al., "Learned Step Size Quantization", ICLR 2020) applied post-training:
 * the scales and zero-points of the unit's quantizers are trained to minimize its output MSE, with
 * straight-through rounding and LSQ's gradient scale {@code 1/sqrt(N_elements * p)} ({@code step_gradient: lsq}), or
 * without it ({@code unscaled}: 3.5 points better on ResNet-8 W3A3, the same on DS-CNN,
 * docs/results/studies/2026-12-lsq-step-gradient.md).
 */
public final class QParamOptimizer implements QuantOptimizer<QParamOptimizer.Options> {

    public record Options(
            @Option(description = ReconstructionOptions.GRANULARITY)
            Granularity granularity,

            @Option(description = ReconstructionOptions.ITERATIONS, min = 1, max = 10_000_000)
            int iterations,

            @Option(description = "Adam learning rate for scales and zero-points", min = 1e-9, max = 10)
            double learningRate,

            @Option(description = ReconstructionOptions.BATCH_SIZE, min = 1, max = 65536)
            int batchSize,

            @Option(description = ReconstructionOptions.MAX_CACHE_MB, min = 1)
            int maxCacheMb,

            @Option(description = ReconstructionOptions.ACTIVATIONS)
            UnitActivations activations,

            @Option(description = ReconstructionLoss.OPTION) ReconstructionLoss loss,

            @Option(description = "the steps' gradient: lsq (times LSQ's scale 1/sqrt(N p)) or unscaled")
            StepGradient stepGradient)
            implements ReconstructionOptions {

        @Override
        public String stepGradientOp() {
            return stepGradient.op;
        }

        public Options {
            if (activations != null && activations.learningRate() > 0) {
                throw new IllegalArgumentException("activations.learning_rate: qparam trains every quantizer's step "
                        + "size, the activations' included, at learning_rate; leave activations.learning_rate out");
            }
        }
    }

    @Override
    public String name() {
        return "qparam";
    }

    @Override
    public String description() {
        return "LSQ: learn scales and zero-points per unit (Esser et al. 2020)";
    }

    @Override
    public Class<Options> optionsType() {
        return Options.class;
    }

    @Override
    public Options defaultOptions() {
        return new Options(
                Granularity.LAYER,
                20_000,
                1e-4,
                32,
                1024,
                UnitActivations.QUANTIZED,
                ReconstructionLoss.MSE,
                StepGradient.LSQ);
    }

    @Override
    public void optimize(QuantizedModel model, Options o, StageContext context) {
        Reconstruction.run(model, new Reconstruction.Settings(name(), o, Set.of(Variable.QPARAMS)), context);
    }
}
