package io.tinyptq.realdata;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.tinyptq.api.model.Model;
import io.tinyptq.api.spi.ComputeBackend;
import io.tinyptq.api.spi.Dataset;
import io.tinyptq.api.spi.ModelExecutor;
import io.tinyptq.api.spi.PluginKind;
import io.tinyptq.api.spi.ProgressListener;
import io.tinyptq.kernel.Kernel;
import io.tinyptq.kernel.data.DatasetDescriptors;
import io.tinyptq.kernel.data.ModelFiles;
import io.tinyptq.kernel.eval.Evaluation;
import io.tinyptq.kernel.eval.Evaluator;
import io.tinyptq.kernel.pipeline.BoundBackends;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the real models and data are: the folder named by the system property {@code tinyptq.shared} (an absolute
 * path; {@code .ci/run} passes {@code ../shared}). Without the property every test of the suite is skipped with a
 * message saying so; with a property that names no models/ and data/ folders the tests fail.
 */
final class Shared {
    static final String PROPERTY = "tinyptq.shared";
    /** The project's dataset descriptors; tests run in realdata/. */
    static final Path DATASETS = Path.of("..", "datasets");

    private static Kernel kernel;

    private Shared() {}

    static Path root() {
        String p = System.getProperty(PROPERTY);
        assumeTrue(
                p != null && !p.isBlank(),
                "real-data suite skipped: -D" + PROPERTY + "=<absolute path of"
                        + " shared/> was not given (.ci/run passes it when ../shared exists)");
        Path root = Path.of(p);
        // Asked to run but pointed at the wrong place: a failure, not a silent skip.
        assertTrue(
                Files.isDirectory(root.resolve("models")) && Files.isDirectory(root.resolve("data")),
                "-D" + PROPERTY + "=" + p + " has no models/ and data/ folders");
        return root;
    }

    /** Discovered on first use, after {@link #root()} has decided the suite runs. */
    static synchronized Kernel kernel() {
        if (kernel == null) {
            kernel = Kernel.discover();
        }
        return kernel;
    }

    static Model model(String file) {
        return ModelFiles.read(kernel().registry(), root().resolve("models").resolve(file));
    }

    static Dataset dataset(String descriptor) {
        return DatasetDescriptors.open(
                kernel().registry(), DatasetDescriptors.resolve(descriptor, DATASETS), root().resolve("data"));
    }

    /** The cpu backend's outputs for samples {@code 0..n-1} of {@code data}, computed in batches of 256. */
    static float[] outputs(Model m, Dataset data, int n) throws Exception {
        int sample = data.sampleShape().size();
        float[] all = null;
        for (int start = 0; start < n; start += 256) {
            int b = Math.min(256, n - start);
            float[] x = new float[b * sample];
            for (int i = 0; i < b; i++) {
                data.read(start + i, x, i * sample);
            }
            float[] y = forward(m, x, b);
            if (all == null) {
                all = new float[n * (y.length / b)];
            }
            System.arraycopy(y, 0, all, start * (y.length / b), y.length);
        }
        return all;
    }

    static float[] forward(Model m, float[] x, int n) throws Exception {
        try (ModelExecutor e = BoundBackends.withDefaults(cpu()).compile(m, null, n)) {
            return e.forward(x, n, ModelExecutor.ActivationListener.NONE);
        }
    }

    static ComputeBackend<?> cpu() {
        return kernel().registry().find(PluginKind.BACKEND, "cpu", ComputeBackend.class);
    }

    static Evaluation evaluate(String modelFile, String descriptor) {
        return Evaluator.run(
                BoundBackends.withDefaults(cpu()),
                model(modelFile),
                null,
                dataset(descriptor),
                64,
                0,
                ProgressListener.NONE);
    }

    /** The index of the largest of {@code n} values (ties: the lowest), read through {@code value}. */
    static int argmax(int n, java.util.function.IntToDoubleFunction value) {
        int best = 0;
        for (int k = 1; k < n; k++) {
            if (value.applyAsDouble(k) > value.applyAsDouble(best)) {
                best = k;
            }
        }
        return best;
    }
}
