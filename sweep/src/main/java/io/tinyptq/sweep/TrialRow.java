package io.tinyptq.sweep;

/**
 * A finished trial as the results database holds it (the columns reports need).
 *
 * @param bops        {@code MACs x b_w x b_a} at the trial's bit-widths
 * @param fpBops      the same at 32/32
 * @param memoryBits  {@code params x b_w + peak activation x b_a}
 * @param secondsJson time per stage as a JSON object (fp_eval, preprocess, init, optimize, postprocess, eval)
 */
public record TrialRow(
        String key,
        String sweep,
        String status,
        String model,
        String data,
        String method,
        String recipe,
        int weightBits,
        int activationBits,
        long seed,
        int calibSize,
        int evalLimit,
        double fpAccuracy,
        double accuracy,
        long evalSamples,
        long bops,
        long fpBops,
        long memoryBits,
        long fpMemoryBits,
        double totalSeconds,
        String secondsJson,
        String outDir) {

    /** Percentage points lost to quantization. */
    public double accuracyDrop() {
        return fpAccuracy - accuracy;
    }

    /** Fraction of FP32 BOPs saved, in percent. */
    public double bopSaving() {
        return 100.0 * (1 - (double) bops / fpBops);
    }

    /** Fraction of FP32 peak memory saved, in percent. */
    public double memorySaving() {
        return 100.0 * (1 - (double) memoryBits / fpMemoryBits);
    }
}
