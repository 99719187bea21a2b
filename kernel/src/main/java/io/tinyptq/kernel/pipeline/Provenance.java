package io.tinyptq.kernel.pipeline;

import io.tinyptq.api.spi.BackendInfo;
import java.io.Serializable;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything needed to reproduce a run: the resolved recipe (every option spelled out, as YAML), the seed, each
 * plugin's name, class and version, the backend as it ran, and the software versions.
 *
 * @param recipeYaml     the resolved recipe, loadable with {@link io.tinyptq.kernel.recipe.RecipeLoader}
 * @param plugins        one entry per step in pipeline order
 * @param stageSeconds   wall time per stage, in pipeline order
 */
public record Provenance(
        String tinyptqVersion,
        String javaVersion,
        String os,
        Instant started,
        long seed,
        String recipeName,
        String recipeYaml,
        String model,
        String calibrationSource,
        List<PluginUse> plugins,
        BackendInfo backend,
        Map<String, Double> stageSeconds)
        implements Serializable {

    public Provenance {
        plugins = List.copyOf(plugins);
        stageSeconds = Collections.unmodifiableMap(new LinkedHashMap<>(stageSeconds));
    }

    /** One plugin as a run used it. */
    public record PluginUse(String stage, String name, String className, String version) implements Serializable {}
}
