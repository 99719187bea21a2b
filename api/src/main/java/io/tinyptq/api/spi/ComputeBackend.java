package io.tinyptq.api.spi;

import io.tinyptq.api.model.Model;
import io.tinyptq.api.quant.QuantizedModel;

/**
 * Runs the compute: model forward passes (and, in later revisions, reconstruction steps on buffers it owns, so
 * a GPU keeps a unit's data resident across iterations).
 *
 * <p>Contract: the provider's constructor does no device start-up; {@link #info()} and {@link #compile} start
 * what they need on first use. A backend that cannot start on this machine throws
 * {@link io.tinyptq.api.TinyPtqException} from {@link #compile} saying why and how to fix it.
 */
public interface ComputeBackend<O extends Record> extends Plugin<O> {

    /** Device, threads and SIMD width as this backend will use them. */
    BackendInfo info(O options);

    /**
     * Prepares {@code model} for batches of up to {@code maxBatch} samples. With {@code quantized} non-null,
     * weights and activations pass through its quantizers (simulated quantization, Eq. 1); with {@code null}
     * the model runs in full precision.
     */
    ModelExecutor compile(Model model, QuantizedModel quantized, int maxBatch, O options);

    /**
     * Compiles a reconstruction or tuning problem that stays resident in this backend across {@link
     * TrainingSession#run} calls. Backends that cannot train throw {@link UnsupportedOperationException}.
     */
    default TrainingSession train(TrainingProblem problem, TrainingSettings settings, O options) {
        throw new UnsupportedOperationException("backend '" + name() + "' cannot run training sessions");
    }
}
