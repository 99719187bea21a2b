package io.tinyptq.kernel.recipe;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.tinyptq.kernel.options.OptionValues;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a resolved recipe as YAML with every option spelled out, so that a run's output records exactly what
 * produced it and can be loaded back ({@link RecipeLoader}) to reproduce it.
 */
public final class RecipeWriter {
    private static final YAMLMapper YAML = new YAMLMapper(YAMLFactory.builder()
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
            .build());

    private RecipeWriter() {}

    public static String toYaml(Recipe recipe) {
        try {
            return YAML.writeValueAsString(toTree(recipe));
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The recipe as a plain tree of maps, lists and scalars in recipe spelling. */
    public static Map<String, Object> toTree(Recipe r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", r.name());
        if (!r.description().isEmpty()) {
            m.put("description", r.description());
        }
        m.put("seed", r.seed());
        m.put("calibration", OptionValues.toTree(r.calibration()));
        m.put("quantization", OptionValues.toTree(r.quantization()));
        m.put("backend", step(r.backend()));
        m.put("preprocess", steps(r.preprocess()));
        Map<String, Object> init = new LinkedHashMap<>();
        init.put("weights", step(r.initWeights()));
        init.put("activations", step(r.initActivations()));
        m.put("init", init);
        m.put("optimize", steps(r.optimize()));
        m.put("postprocess", steps(r.postprocess()));
        return m;
    }

    private static List<Object> steps(List<Step> steps) {
        List<Object> out = new ArrayList<>();
        steps.forEach(s -> out.add(step(s)));
        return out;
    }

    private static Map<String, Object> step(Step s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("plugin", s.plugin());
        if (s.options() != null) {
            Map<String, Object> options = OptionValues.toTree(s.options());
            if (!options.isEmpty()) {
                m.put("options", options);
            }
        }
        return m;
    }
}
