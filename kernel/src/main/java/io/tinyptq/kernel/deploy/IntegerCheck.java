package io.tinyptq.kernel.deploy;

import io.tinyptq.api.integer.IntegerModel;
import io.tinyptq.api.integer.TensorQuant;
import io.tinyptq.api.quant.QuantizedModel;
import io.tinyptq.api.spi.Dataset;
import io.tinyptq.api.spi.IntegerRuntime;
import io.tinyptq.api.spi.ModelExecutor;
import io.tinyptq.api.spi.ProgressListener;
import io.tinyptq.api.spi.StageContext.BoundBackend;
import java.io.Serializable;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Runs a model quantized under target {@code tflite} twice on the same samples, as the float simulation and as its
 * lowered integer model in an integer runtime, and compares the outputs element by element in units of the output's
 * step (LSB): both give the int8 codes of the same tensor, so "identical" means the same integers.
 *
 * @param samples            samples run
 * @param outputs            output values compared ({@code samples * classes})
 * @param identicalOutputs   of those, equal in both
 * @param maxLsb             largest difference, in output steps
 * @param simulatedCorrect   samples the simulation classifies correctly
 * @param integerCorrect     samples the integer model classifies correctly
 * @param samePrediction     samples with the same top-1 class in both
 * @param tensors            the same comparison for every tensor, in graph order: where the two first part
 */
public record IntegerCheck(
        int samples,
        long outputs,
        long identicalOutputs,
        int maxLsb,
        int simulatedCorrect,
        int integerCorrect,
        int samePrediction,
        Map<String, TensorAgreement> tensors)
        implements Serializable {

    /** How one tensor compares: values, identical values, largest difference in steps of its quantization. */
    public record TensorAgreement(long values, long identical, int maxLsb) implements Serializable {
        TensorAgreement add(long v, long same, int lsb) {
            return new TensorAgreement(values + v, identical + same, Math.max(maxLsb, lsb));
        }
    }

    /** The first tensor in graph order whose values differ, or empty when all agree. */
    public Optional<String> firstDifference() {
        return tensors.entrySet().stream()
                .filter(e -> e.getValue().identical() != e.getValue().values())
                .map(Map.Entry::getKey)
                .findFirst();
    }

    public double simulatedAccuracy() {
        return samples == 0 ? Double.NaN : 100.0 * simulatedCorrect / samples;
    }

    public double integerAccuracy() {
        return samples == 0 ? Double.NaN : 100.0 * integerCorrect / samples;
    }

    /** Percentage of output values equal in both. */
    public double identicalPercent() {
        return outputs == 0 ? Double.NaN : 100.0 * identicalOutputs / outputs;
    }

    /**
     * Compares {@code qm} simulated by {@code backend} with {@code lowered} run by {@code runtime} (with
     * {@code options}) on the first {@code limit} samples of {@code data} (all when {@code limit <= 0}); both read the
     * samples as the device quantizes them ({@link DeviceInputs}).
     */
    public static <O extends Record> IntegerCheck run(
            BoundBackend backend,
            QuantizedModel qm,
            IntegerRuntime<O> runtime,
            O options,
            IntegerModel lowered,
            Dataset data,
            int batch,
            int limit,
            ProgressListener progress) {
        String in = lowered.graph().inputs().keySet().iterator().next();
        String out = lowered.graph().outputs().get(0);
        Dataset d = new DeviceInputs(data, lowered.integerQuant(in));
        TensorQuant oq = lowered.integerQuant(out);
        int n = limit > 0 ? Math.min(limit, d.size()) : d.size();
        int sample = d.sampleShape().size();
        int b = Math.max(1, Math.min(batch, n));
        float[] x = new float[b * sample];
        long outputs = 0;
        long identical = 0;
        int maxLsb = 0;
        int simCorrect = 0;
        int intCorrect = 0;
        int same = 0;
        Map<String, TensorAgreement> tensors = new LinkedHashMap<>();
        lowered.graph().activationShapes().keySet().forEach(t -> tensors.put(t, new TensorAgreement(0, 0, 0)));
        Map<String, float[]> simulated = new HashMap<>();
        try (ModelExecutor sim = backend.compile(qm.model(), qm, b);
                ModelExecutor integer = runtime.compile(lowered, b, options)) {
            for (int start = 0; start < n; start += b) {
                int count = Math.min(b, n - start);
                for (int i = 0; i < count; i++) {
                    d.read(start + i, x, i * sample);
                }
                float[] ys = sim.forward(
                        x, count, (t, v, off, len) -> simulated.put(t, Arrays.copyOfRange(v, off, off + len)));
                // The runtimes may report a tensor for the whole batch or sample by sample: compare from a cursor.
                Map<String, Integer> cursor = new HashMap<>();
                float[] yi = integer.forward(x, count, (t, v, off, len) -> {
                    float[] sv = simulated.get(t);
                    TensorQuant tq = lowered.integerQuant(t);
                    int at = cursor.getOrDefault(t, 0);
                    if (sv == null || tq == null || at + len > sv.length) {
                        return;
                    }
                    cursor.put(t, at + len);
                    long equal = 0;
                    int worst = 0;
                    for (int j = 0; j < len; j++) {
                        equal += sv[at + j] == v[off + j] ? 1 : 0;
                        worst = Math.max(worst, (int) Math.round(Math.abs(sv[at + j] - v[off + j]) / tq.scale(0)));
                    }
                    tensors.merge(
                            t,
                            new TensorAgreement(len, equal, worst),
                            (a, b2) -> a.add(b2.values(), b2.identical(), b2.maxLsb()));
                });
                int classes = ys.length / count;
                for (int i = 0; i < count; i++) {
                    int label = d.label(start + i);
                    int ps = argmax(ys, i * classes, classes);
                    int pi = argmax(yi, i * classes, classes);
                    simCorrect += ps == label ? 1 : 0;
                    intCorrect += pi == label ? 1 : 0;
                    same += ps == pi ? 1 : 0;
                }
                for (int j = 0; j < count * classes; j++) {
                    int lsb = (int) Math.round(Math.abs(ys[j] - yi[j]) / oq.scale(0));
                    identical += ys[j] == yi[j] ? 1 : 0;
                    maxLsb = Math.max(maxLsb, lsb);
                }
                outputs += (long) count * classes;
                progress.progress("simulation vs integer", start + count, n);
            }
        }
        return new IntegerCheck(n, outputs, identical, maxLsb, simCorrect, intCorrect, same, tensors);
    }

    /** As {@link #run} with the runtime's default options. */
    public static <O extends Record> IntegerCheck run(
            BoundBackend backend,
            QuantizedModel qm,
            IntegerRuntime<O> runtime,
            IntegerModel lowered,
            Dataset data,
            int batch,
            int limit,
            ProgressListener progress) {
        return run(backend, qm, runtime, runtime.defaultOptions(), lowered, data, batch, limit, progress);
    }

    private static int argmax(float[] y, int offset, int length) {
        int best = 0;
        for (int k = 1; k < length; k++) {
            if (y[offset + k] > y[offset + best]) {
                best = k;
            }
        }
        return best;
    }
}
