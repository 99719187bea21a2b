package io.tinyptq.kernel.eval;

import io.tinyptq.api.TinyPtqException;
import io.tinyptq.api.integer.IntegerModel;
import io.tinyptq.api.model.Model;
import io.tinyptq.api.model.Op;
import io.tinyptq.api.model.Shape;
import io.tinyptq.api.quant.QuantizedModel;
import io.tinyptq.api.spi.Dataset;
import io.tinyptq.api.spi.IntegerRuntime;
import io.tinyptq.api.spi.ModelExecutor;
import io.tinyptq.api.spi.PluginKind;
import io.tinyptq.api.spi.ProgressListener;
import io.tinyptq.api.spi.StageContext.BoundBackend;
import io.tinyptq.kernel.options.KeyValueOptions;
import io.tinyptq.kernel.registry.PluginRegistry;
import java.util.List;
import java.util.function.IntFunction;

/**
 * Measures top-1 accuracy: runs the model over the dataset in batches on a backend (a fully-integer model: through
 * an integer runtime) and compares the arg-max of the first model output (probabilities or logits alike) with each
 * label. Ties go to the lowest class index.
 */
public final class Evaluator {
    /** The task name progress is reported under. */
    public static final String TASK = "eval";

    private Evaluator() {}

    /** The integer runtime {@link #runInteger} uses unless told otherwise. */
    public static final String DEFAULT_INTEGER_RUNTIME = "reference";

    /**
     * Evaluates {@code model} (simulating {@code quantized} when non-null) on the first {@code limit} samples of
     * {@code data} (all when {@code limit <= 0}), {@code batch} samples per forward pass.
     */
    public static Evaluation run(
            BoundBackend backend,
            Model model,
            QuantizedModel quantized,
            Dataset data,
            int batch,
            int limit,
            ProgressListener progress) {
        return evaluate(model, data, batch, limit, progress, b -> backend.compile(model, quantized, b));
    }

    /**
     * Evaluates a fully-integer model through {@code runtime} (its default options): samples go in as floats, are
     * quantized by the runtime with the model input's integer quantization, and the dequantized first output is
     * compared with the labels as for float models.
     */
    public static Evaluation runInteger(
            IntegerRuntime<?> runtime,
            IntegerModel model,
            Dataset data,
            int batch,
            int limit,
            ProgressListener progress) {
        return runInteger(runtime, List.of(), model, data, batch, limit, progress);
    }

    /** As {@link #runInteger}, the runtime's options given as {@code KEY=VALUE} pairs ({@link KeyValueOptions}). */
    public static Evaluation runInteger(
            IntegerRuntime<?> runtime,
            List<String> options,
            IntegerModel model,
            Dataset data,
            int batch,
            int limit,
            ProgressListener progress) {
        return evaluate(model.graph(), data, batch, limit, progress, compiler(runtime, options, model));
    }

    /** Binds the options once, before any sample is read, and compiles for each batch size asked. */
    private static <O extends Record> IntFunction<ModelExecutor> compiler(
            IntegerRuntime<O> runtime, List<String> options, IntegerModel model) {
        O bound = options.isEmpty()
                ? runtime.defaultOptions()
                : KeyValueOptions.bind(runtime, options, "--runtime-option");
        return b -> runtime.compile(model, b, bound);
    }

    /**
     * The integer runtime plugin named {@code name} ({@link #DEFAULT_INTEGER_RUNTIME} when null). Fails naming the
     * missing plugin kind when no integer runtime is installed at all, or listing the installed ones when none has
     * that name.
     */
    public static IntegerRuntime<?> integerRuntime(PluginRegistry registry, String name) {
        String wanted = name == null ? DEFAULT_INTEGER_RUNTIME : name;
        if (registry.names(PluginKind.INTEGER).isEmpty()) {
            throw new TinyPtqException("fully-integer models run only through an integer runtime, and none is"
                    + " installed: no plugin of kind '" + PluginKind.INTEGER.key() + "' (" + PluginKind.INTEGER.title()
                    + ", " + IntegerRuntime.class.getName() + ") was found; put one on the path, e.g. '"
                    + DEFAULT_INTEGER_RUNTIME + "' from tinyptq's integer module");
        }
        return registry.find(PluginKind.INTEGER, wanted, IntegerRuntime.class);
    }

    private static Evaluation evaluate(
            Model model,
            Dataset data,
            int batch,
            int limit,
            ProgressListener progress,
            IntFunction<ModelExecutor> compile) {
        if (batch < 1) {
            throw new IllegalArgumentException("batch must be >= 1, got " + batch);
        }
        if (model.inputs().size() != 1) {
            throw new TinyPtqException(
                    "model '" + model.name() + "' has " + model.inputs().size() + " inputs; evaluation feeds one");
        }
        String input = model.inputs().keySet().iterator().next();
        Shape inShape = model.shape(input);
        if (!inShape.equals(data.sampleShape())) {
            throw new TinyPtqException("dataset '" + data.name() + "' has samples of shape " + data.sampleShape()
                    + " but model '" + model.name() + "' input '" + input + "' expects " + inShape);
        }
        int classes = model.shape(model.outputs().getFirst()).size();
        if (classes != data.numClasses()) {
            throw new TinyPtqException("model '" + model.name() + "' outputs " + classes + " values per sample but"
                    + " dataset '" + data.name() + "' has " + data.numClasses() + " classes");
        }
        int n = limit > 0 ? Math.min(limit, data.size()) : data.size();
        if (n == 0) {
            throw new TinyPtqException("dataset '" + data.name() + "' has no samples to evaluate");
        }
        int b = Math.min(batch, n);
        int sample = inShape.size();
        long[][] confusion = new long[classes][classes];
        long t0 = System.nanoTime();
        float[] in = new float[b * sample];
        int[] labels = new int[b];
        boolean probabilities = !model.ops().isEmpty() && model.ops().getLast() instanceof Op.Softmax;
        double crossEntropy = 0;
        long nonFinite = 0;
        try (ModelExecutor exec = compile.apply(b)) {
            progress.progress(TASK, 0, n);
            for (int start = 0; start < n; start += b) {
                int count = Math.min(b, n - start);
                for (int j = 0; j < count; j++) {
                    data.read(start + j, in, j * sample);
                    labels[j] = data.label(start + j);
                }
                float[] out = exec.forward(in, count, ModelExecutor.ActivationListener.NONE);
                for (int j = 0; j < count; j++) {
                    nonFinite += finite(out, j * classes, classes) ? 0 : 1;
                    confusion[labels[j]][argmax(out, j * classes, classes)]++;
                    crossEntropy += crossEntropy(out, j * classes, classes, labels[j], probabilities);
                }
                progress.progress(TASK, start + count, n);
            }
        }
        return new Evaluation(
                model.name(), data.name(), confusion, (System.nanoTime() - t0) / 1e9, crossEntropy / n, nonFinite);
    }

    private static boolean finite(float[] v, int from, int n) {
        for (int i = from; i < from + n; i++) {
            if (!Float.isFinite(v[i])) {
                return false;
            }
        }
        return true;
    }

    /** {@code -log p(label)}: of the probabilities themselves, or of the log-softmax of logits (max-shifted). */
    static double crossEntropy(float[] v, int from, int n, int label, boolean probabilities) {
        if (probabilities) {
            return -Math.log(Math.max(v[from + label], 1e-12));
        }
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, v[from + i]);
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += Math.exp(v[from + i] - max);
        }
        return Math.log(sum) + max - v[from + label];
    }

    /** Index of the largest of {@code v[from..from+n)}, the first one on ties. */
    static int argmax(float[] v, int from, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (v[from + i] > v[from + best]) {
                best = i;
            }
        }
        return best;
    }
}
