package io.tinyptq.kernel.run;

import io.tinyptq.kernel.deploy.DeviceMemory;
import io.tinyptq.kernel.deploy.IntegerCheck;
import io.tinyptq.kernel.pipeline.Provenance;
import java.io.Serializable;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What a run measured: accuracies of the FP and the quantized model on the same evaluation samples, the paper's
 * cost figures at the run's bit-widths, and time per stage. Serializable, with everything it holds, so that a
 * distributed sweep's executor can send it back from the machine that ran the trial.
 *
 * @param bops        {@code MACs x b_w x b_a} (Zhuo et al. 2022, Sec. 4.3)
 * @param memoryBits  {@code params x b_w + peak activation x b_a}
 * @param fpBops      the same at 32/32 bits, for the saving ratio
 * @param fpMemoryBits the same at 32/32 bits
 * @param integer     under target {@code tflite}: the simulation against the lowered integer model on the same
 *                    samples; {@code null} otherwise
 * @param liteRtAccuracy under target {@code tflite}: the integer model's accuracy in XNNPACK's arithmetic with
 *                    TFLite's lookup-table softmax, as LiteRT computes; NaN otherwise
 * @param singleRoundingAccuracy under target {@code tflite}: the integer model's accuracy in TFLite's reference
 *                    arithmetic rounding once ({@code TFLITE_SINGLE_ROUNDING}), what {@code export --format c}
 *                    generates by default; NaN otherwise
 * @param deviceMemory under target {@code tflite}: the integer model's memory as each code generator lays it out,
 *                    to compare with {@code memoryBits}; empty otherwise
 */
public record RunReport(
        String recipe,
        String model,
        String dataset,
        String calibration,
        long seed,
        int weightBits,
        int activationBits,
        int inputBits,
        double fpAccuracy,
        double accuracy,
        long evalSamples,
        long bops,
        long fpBops,
        long memoryBits,
        long fpMemoryBits,
        Map<String, Double> seconds,
        Provenance provenance,
        IntegerCheck integer,
        double liteRtAccuracy,
        double singleRoundingAccuracy,
        List<DeviceMemory> deviceMemory)
        implements Serializable {

    public RunReport {
        deviceMemory = List.copyOf(deviceMemory);
    }

    /** A report without an integer check (target {@code simulated}). */
    public RunReport(
            String recipe,
            String model,
            String dataset,
            String calibration,
            long seed,
            int weightBits,
            int activationBits,
            int inputBits,
            double fpAccuracy,
            double accuracy,
            long evalSamples,
            long bops,
            long fpBops,
            long memoryBits,
            long fpMemoryBits,
            Map<String, Double> seconds,
            Provenance provenance) {
        this(
                recipe,
                model,
                dataset,
                calibration,
                seed,
                weightBits,
                activationBits,
                inputBits,
                fpAccuracy,
                accuracy,
                evalSamples,
                bops,
                fpBops,
                memoryBits,
                fpMemoryBits,
                seconds,
                provenance,
                null,
                Double.NaN,
                Double.NaN,
                List.of());
    }

    public String text() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "recipe        %s (seed %d)%n", recipe, seed));
        sb.append(String.format(Locale.ROOT, "model         %s%n", model));
        sb.append(String.format(Locale.ROOT, "evaluation    %s, %d samples%n", dataset, evalSamples));
        sb.append(String.format(Locale.ROOT, "calibration   %s%n", calibration));
        sb.append(
                String.format(Locale.ROOT, "bit-widths    W%dA%d (input %d)%n", weightBits, activationBits, inputBits));
        sb.append(String.format(
                Locale.ROOT,
                "accuracy      FP %.2f %%  ->  quantized %.2f %%  (drop %.2f points)%n",
                fpAccuracy,
                accuracy,
                fpAccuracy - accuracy));
        if (integer != null) {
            sb.append(String.format(
                    Locale.ROOT,
                    "integer       the int8 model in TFLite's reference arithmetic (TFLite"
                            + " Micro's); in XNNPACK's (LiteRT's) %.2f %%; rounding once (the C export's) %.2f %%%n",
                    liteRtAccuracy,
                    singleRoundingAccuracy));
            sb.append(String.format(
                    Locale.ROOT,
                    "simulation    %.2f %% (float fake quantization, what the stages"
                            + " optimized): %.3f %% of %,d outputs identical to the int8 model's, largest difference %d LSB,"
                            + " %d of %d predictions equal%n",
                    integer.simulatedAccuracy(),
                    integer.identicalPercent(),
                    integer.outputs(),
                    integer.maxLsb(),
                    integer.samePrediction(),
                    integer.samples()));
            integer.tensors().forEach((t, a) -> {
                if (a.identical() != a.values()) {
                    sb.append(String.format(
                            Locale.ROOT,
                            "              tensor %s: %.3f %% of %,d values identical,"
                                    + " largest difference %d LSB%n",
                            t,
                            100.0 * a.identical() / a.values(),
                            a.values(),
                            a.maxLsb()));
                }
            });
        }
        sb.append(String.format(
                Locale.ROOT,
                "BOPs          %,d (%.1f %% saved vs FP32)%n",
                bops,
                100.0 * (1 - (double) bops / fpBops)));
        sb.append(String.format(
                Locale.ROOT,
                "peak memory   %,d bits = %,.1f KiB (%.1f %% saved vs FP32)%n",
                memoryBits,
                memoryBits / 8.0 / 1024,
                100.0 * (1 - (double) memoryBits / fpMemoryBits)));
        for (DeviceMemory d : deviceMemory) {
            sb.append("on a device   ").append(d.line(memoryBits)).append('\n');
        }
        StringBuilder t = new StringBuilder();
        seconds.forEach((k, v) -> t.append(String.format(Locale.ROOT, "%s %.1f s, ", k, v)));
        sb.append("time          ")
                .append(t.length() > 2 ? t.substring(0, t.length() - 2) : "")
                .append('\n');
        return sb.toString();
    }
}
