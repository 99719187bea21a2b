package io.tinyptq.kernel.deploy;

import io.tinyptq.api.TinyPtqException;
import io.tinyptq.api.integer.IntegerModel;
import io.tinyptq.api.integer.TensorQuant;
import io.tinyptq.api.spi.CodeGenerator;
import io.tinyptq.api.spi.Dataset;
import io.tinyptq.api.spi.IntegerRuntime;
import io.tinyptq.api.spi.ModelExecutor;
import io.tinyptq.api.spi.ProgressListener;
import io.tinyptq.kernel.options.KeyValueOptions;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * A built program (generated code on a device or the host) against the integer runtime, the oracle: both read the
 * samples as the device quantizes them ({@link DeviceInputs#code}), and every output code is compared.
 *
 * @param samples samples run
 * @param identicalSamples samples whose whole output equals the runtime's
 * @param values output values compared
 * @param identicalValues equal ones
 * @param maxDifference the largest difference of two output codes
 * @param accuracy top-1 accuracy of the program's outputs, percent
 * @param runtimeAccuracy the runtime's, percent
 * @param instructions instructions per inference where the platform counts them (else empty)
 */
public record DeviceCheck(
        int samples,
        int identicalSamples,
        long values,
        long identicalValues,
        int maxDifference,
        double accuracy,
        double runtimeAccuracy,
        long[] instructions) {

    /** Samples per program run: its progress is reported between runs. */
    static final int CHUNK = 256;

    public static <O extends Record> DeviceCheck run(
            CodeGenerator.Program program,
            IntegerRuntime<O> runtime,
            List<String> runtimeOptions,
            IntegerModel model,
            Dataset data,
            int limit,
            ProgressListener progress) {
        O options = runtimeOptions.isEmpty()
                ? runtime.defaultOptions()
                : KeyValueOptions.bind(runtime, runtimeOptions, "--runtime-option");
        String in = model.graph().inputs().keySet().iterator().next();
        TensorQuant iq = model.integerQuant(in);
        TensorQuant oq = model.integerQuant(model.graph().outputs().get(0));
        int n = limit > 0 ? Math.min(limit, data.size()) : data.size();
        int size = data.sampleShape().size();
        int identicalSamples = 0;
        long values = 0;
        long identicalValues = 0;
        int maxDifference = 0;
        int correct = 0;
        int runtimeCorrect = 0;
        long[] instructions = new long[0];
        float[] x = new float[size];
        try (ModelExecutor oracle = runtime.compile(model, CHUNK, options)) {
            for (int start = 0; start < n; start += CHUNK) {
                int count = Math.min(CHUNK, n - start);
                byte[] codes = new byte[count * size];
                float[] dequantized = new float[count * size];
                for (int i = 0; i < count; i++) {
                    data.read(start + i, x, 0);
                    for (int j = 0; j < size; j++) {
                        int q = DeviceInputs.code(x[j], iq);
                        codes[i * size + j] = (byte) q;
                        dequantized[i * size + j] = iq.scale(0) * (q - iq.zeroPoint(0));
                    }
                }
                float[] expected = oracle.forward(dequantized, count, ModelExecutor.ActivationListener.NONE);
                CodeGenerator.Run r = program.run(codes, count);
                int classes = expected.length / count;
                if (r.outputs().length != expected.length) {
                    throw new TinyPtqException("the program wrote " + r.outputs().length + " output" + " bytes for "
                            + count + " samples, expected " + expected.length);
                }
                for (int i = 0; i < count; i++) {
                    boolean same = true;
                    int best = 0;
                    int bestRuntime = 0;
                    for (int c = 0; c < classes; c++) {
                        int got = r.outputs()[i * classes + c];
                        int want = Math.round(expected[i * classes + c] / oq.scale(0)) + oq.zeroPoint(0);
                        same &= got == want;
                        identicalValues += got == want ? 1 : 0;
                        maxDifference = Math.max(maxDifference, Math.abs(got - want));
                        best = got > r.outputs()[i * classes + best] ? c : best;
                        bestRuntime = expected[i * classes + c] > expected[i * classes + bestRuntime] ? c : bestRuntime;
                    }
                    values += classes;
                    identicalSamples += same ? 1 : 0;
                    int label = data.label(start + i);
                    correct += best == label ? 1 : 0;
                    runtimeCorrect += bestRuntime == label ? 1 : 0;
                }
                if (r.instructions().length > 0) {
                    long[] all = Arrays.copyOf(instructions, instructions.length + r.instructions().length);
                    System.arraycopy(r.instructions(), 0, all, instructions.length, r.instructions().length);
                    instructions = all;
                }
                progress.progress("device", start + count, n);
            }
        }
        return new DeviceCheck(
                n,
                identicalSamples,
                values,
                identicalValues,
                maxDifference,
                100.0 * correct / n,
                100.0 * runtimeCorrect / n,
                instructions);
    }

    /** Mean instructions per inference, or -1 where they were not counted. */
    public double meanInstructions() {
        return instructions.length == 0
                ? -1
                : Arrays.stream(instructions).average().orElse(-1);
    }

    public String summary() {
        return String.format(
                Locale.ROOT,
                "%d samples: %d with outputs identical to the integer runtime (%d of %d"
                        + " values), largest difference %d; accuracy %.2f %% (integer runtime %.2f %%)%s",
                samples,
                identicalSamples,
                identicalValues,
                values,
                maxDifference,
                accuracy,
                runtimeAccuracy,
                instructions.length == 0
                        ? ""
                        : String.format(Locale.ROOT, "; %.0f instructions per inference", meanInstructions()));
    }
}
