package io.tinyptq.backend.cpu;

import io.tinyptq.api.model.Model;
import io.tinyptq.api.options.Option;
import io.tinyptq.api.quant.QuantizedModel;
import io.tinyptq.api.spi.BackendInfo;
import io.tinyptq.api.spi.ComputeBackend;
import io.tinyptq.api.spi.ModelExecutor;
import io.tinyptq.api.spi.TrainingProblem;
import io.tinyptq.api.spi.TrainingSession;
import io.tinyptq.api.spi.TrainingSettings;
import io.tinyptq.backend.cpu.kernels.Parallel;

/**
 * The CPU backend: batched NHWC kernels, SIMD through the Vector API, threads split output rows (see
 * {@link io.tinyptq.backend.cpu.kernels}). Its constructor does nothing; thread teams start on first compile.
 */
public final class CpuBackend implements ComputeBackend<CpuBackend.Options> {

    /** @param threads worker threads, the caller included; 0 means one per available processor */
    public record Options(
            @Option(
                    description = "threads, the calling thread included; 0 = one per available processor",
                    min = 0,
                    max = 1024)
            int threads) {}

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public String description() {
        return "multi-threaded Vector API kernels on the JVM";
    }

    @Override
    public Class<Options> optionsType() {
        return Options.class;
    }

    @Override
    public Options defaultOptions() {
        return new Options(0);
    }

    static int threads(Options o) {
        return o.threads() == 0 ? Runtime.getRuntime().availableProcessors() : o.threads();
    }

    @Override
    public BackendInfo info(Options options) {
        return new BackendInfo(
                name(),
                "CPU, " + Runtime.getRuntime().availableProcessors() + " processors, " + Parallel.simdWidth() * 32
                        + "-bit vectors",
                threads(options),
                Parallel.simdWidth());
    }

    @Override
    public TrainingSession train(TrainingProblem problem, TrainingSettings settings, Options options) {
        int t = threads(options);
        Parallel par = t == 1
                ? Parallel.serial()
                : t == Runtime.getRuntime().availableProcessors() ? Parallel.shared() : new Parallel(t);
        return new CpuTrainingSession(problem, settings, par, par != Parallel.serial() && par != Parallel.shared());
    }

    @Override
    public ModelExecutor compile(Model model, QuantizedModel quantized, int maxBatch, Options options) {
        int t = threads(options);
        Parallel par = t == 1
                ? Parallel.serial()
                : t == Runtime.getRuntime().availableProcessors() ? Parallel.shared() : new Parallel(t);
        return new CpuModelExecutor(
                model, quantized, maxBatch, par, par != Parallel.serial() && par != Parallel.shared());
    }
}
