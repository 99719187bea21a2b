package io.tinyptq.backend.tornado;

import io.tinyptq.api.TinyPtqException;
import io.tinyptq.api.model.Model;
import io.tinyptq.api.options.Option;
import io.tinyptq.api.quant.QuantizedModel;
import io.tinyptq.api.spi.BackendInfo;
import io.tinyptq.api.spi.ComputeBackend;
import io.tinyptq.api.spi.ModelExecutor;
import io.tinyptq.api.spi.TrainingProblem;
import io.tinyptq.api.spi.TrainingSession;
import io.tinyptq.api.spi.TrainingSettings;
import io.tinyptq.backend.kernels.LayerUnit;

/**
 * The TornadoVM backend. It runs what the kernels implement, layer-wise AdaRound of conv2d and dense units
 * ({@link LayerUnit#of}), on an OpenCL device through TornadoVM, one task graph per step with the unit's data
 * resident. Everything else, model execution included, it declines with {@link UnsupportedOperationException}
 * saying why, and the pipeline runs that part on the cpu backend. Its constructor starts nothing; the first
 * {@link #info} or {@link #train} probes TornadoVM ({@link TornadoProbe}).
 */
public final class TornadoBackend implements ComputeBackend<TornadoBackend.Options> {

    /** @param device TornadoVM device as {@code backend:device} (see the probe's list); empty for its default */
    public record Options(
            @Option(
                    description = "TornadoVM device as backend:device, e.g. 0:1 (empty: TornadoVM's default device)",
                    pattern = "(\\d+:\\d+)?")
            String device) {}

    @Override
    public String name() {
        return "tornado";
    }

    @Override
    public String description() {
        return "layer-wise AdaRound as TornadoVM task graphs on an OpenCL GPU/FPGA (other work runs on cpu)";
    }

    @Override
    public Class<Options> optionsType() {
        return Options.class;
    }

    @Override
    public Options defaultOptions() {
        return new Options("");
    }

    private static TornadoProbe.Found device(Options o) {
        try {
            return TornadoProbe.probe(o.device() == null ? "" : o.device());
        } catch (IllegalStateException e) {
            throw new TinyPtqException("backend 'tornado': " + e.getMessage());
        }
    }

    @Override
    public BackendInfo info(Options options) {
        TornadoProbe.Found f = device(options);
        return new BackendInfo(name(), f.name() + " (TornadoVM; devices " + f.devices() + ")", 1, 1);
    }

    @Override
    public ModelExecutor compile(Model model, QuantizedModel quantized, int maxBatch, Options options) {
        throw new UnsupportedOperationException(
                "the tornado backend runs reconstruction steps only; model execution" + " belongs to the cpu backend");
    }

    @Override
    public TrainingSession train(TrainingProblem problem, TrainingSettings settings, Options options) {
        LayerUnit unit = LayerUnit.of(problem, settings);
        return new TornadoSession(unit, settings, device(options).device());
    }
}
