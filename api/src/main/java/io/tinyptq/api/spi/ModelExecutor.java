package io.tinyptq.api.spi;

/**
 * A model compiled by a backend for a maximum batch size. Buffers are allocated once at compile time and
 * reused by every call; an executor is used by one thread at a time.
 */
public interface ModelExecutor extends AutoCloseable {

    int maxBatch();

    /**
     * Runs {@code batch} samples stored back to back in {@code input} (each of the model input's per-sample
     * size) and returns the first model output, {@code batch} rows back to back, in a new array. The listener
     * sees each activation tensor (model inputs included) once it is computed, quantized if the executor
     * simulates quantization; the array it sees is reused afterwards.
     */
    float[] forward(float[] input, int batch, ActivationListener listener);

    @Override
    void close();

    /** Receives activation tensors during a forward pass. */
    @FunctionalInterface
    interface ActivationListener {
        ActivationListener NONE = (tensor, values, offset, length) -> {};

        void onActivation(String tensor, float[] values, int offset, int length);
    }
}
