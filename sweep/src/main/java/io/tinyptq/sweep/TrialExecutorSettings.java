package io.tinyptq.sweep;

import io.tinyptq.kernel.Kernel;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a {@link TrialExecutorProvider} starts an executor with.
 *
 * @param kernel   this JVM's kernel (an executor in other JVMs builds its own there)
 * @param dataRoot root of the data files that dataset descriptors name
 * @param datasets folder of dataset descriptors (may be null)
 * @param parallel trials at once, for executors that run trials in this JVM
 * @param conf     the engine's own settings ({@code --master}, {@code --conf KEY=VALUE}), in the order given; an
 *                 executor that has none refuses them
 */
public record TrialExecutorSettings(
        Kernel kernel, Path dataRoot, Path datasets, int parallel, Map<String, String> conf) {
    public TrialExecutorSettings {
        conf = Collections.unmodifiableMap(new LinkedHashMap<>(conf));
    }
}
