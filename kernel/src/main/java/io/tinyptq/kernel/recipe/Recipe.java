package io.tinyptq.kernel.recipe;

import io.tinyptq.api.quant.QuantScheme;
import io.tinyptq.kernel.registry.PluginRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A PTQ algorithm as a composition of plugins (Zhuo et al. 2022, Figure 2): preprocessing steps, one
 * initializer for weights and one for activations, optimization steps and post-processing steps, plus the
 * quantization scheme, calibration size, backend and seed.
 *
 * <p>A recipe is either loaded from YAML ({@link RecipeLoader}) or built in code ({@link #builder(String)});
 * both paths end in {@link RecipeValidator}, which resolves every omitted option to the plugin's default and
 * checks every rule. A validated recipe has no {@code null} options.
 */
public record Recipe(
        String name,
        String description,
        long seed,
        Calibration calibration,
        QuantScheme quantization,
        Step backend,
        List<Step> preprocess,
        Step initWeights,
        Step initActivations,
        List<Step> optimize,
        List<Step> postprocess) {

    public Recipe {
        Objects.requireNonNull(name, "name");
        description = description == null ? "" : description;
        Objects.requireNonNull(calibration, "calibration");
        Objects.requireNonNull(quantization, "quantization");
        Objects.requireNonNull(backend, "backend");
        preprocess = List.copyOf(preprocess);
        Objects.requireNonNull(initWeights, "initWeights");
        Objects.requireNonNull(initActivations, "initActivations");
        optimize = List.copyOf(optimize);
        postprocess = List.copyOf(postprocess);
    }

    public static Builder builder(String name) {
        return new Builder(name);
    }

    /** The same recipe with another seed (sweeps run one recipe over several seeds). */
    public Recipe withSeed(long newSeed) {
        return new Recipe(
                name,
                description,
                newSeed,
                calibration,
                quantization,
                backend,
                preprocess,
                initWeights,
                initActivations,
                optimize,
                postprocess);
    }

    /** The same recipe with another calibration section. */
    public Recipe withCalibration(Calibration value) {
        return new Recipe(
                name,
                description,
                seed,
                value,
                quantization,
                backend,
                preprocess,
                initWeights,
                initActivations,
                optimize,
                postprocess);
    }

    /** The same recipe with another quantization scheme (sweeps vary bit-widths). */
    public Recipe withQuantization(QuantScheme scheme) {
        return new Recipe(
                name,
                description,
                seed,
                calibration,
                scheme,
                backend,
                preprocess,
                initWeights,
                initActivations,
                optimize,
                postprocess);
    }

    /** Builds a recipe in Java; {@link #build(PluginRegistry)} validates it exactly as a YAML recipe. */
    public static final class Builder {
        private final String name;
        private String description = "";
        private long seed;
        private Calibration calibration = Calibration.DEFAULTS;
        private QuantScheme quantization = QuantScheme.DEFAULTS;
        private Step backend = Step.of(RecipeLoader.DEFAULT_BACKEND);
        private final List<Step> preprocess = new ArrayList<>();
        private Step initWeights = Step.of(RecipeLoader.DEFAULT_INIT);
        private Step initActivations = Step.of(RecipeLoader.DEFAULT_INIT);
        private final List<Step> optimize = new ArrayList<>();
        private final List<Step> postprocess = new ArrayList<>();

        private Builder(String name) {
            this.name = name;
        }

        public Builder description(String text) {
            this.description = text;
            return this;
        }

        public Builder seed(long value) {
            this.seed = value;
            return this;
        }

        public Builder calibration(Calibration value) {
            this.calibration = value;
            return this;
        }

        public Builder quantization(QuantScheme value) {
            this.quantization = value;
            return this;
        }

        public Builder backend(String plugin, Record options) {
            this.backend = new Step(plugin, options);
            return this;
        }

        public Builder preprocess(String plugin, Record options) {
            preprocess.add(new Step(plugin, options));
            return this;
        }

        public Builder initWeights(String plugin, Record options) {
            this.initWeights = new Step(plugin, options);
            return this;
        }

        public Builder initActivations(String plugin, Record options) {
            this.initActivations = new Step(plugin, options);
            return this;
        }

        public Builder optimize(String plugin, Record options) {
            optimize.add(new Step(plugin, options));
            return this;
        }

        public Builder postprocess(String plugin, Record options) {
            postprocess.add(new Step(plugin, options));
            return this;
        }

        /** Validates against the plugins of {@code registry}; omitted options become defaults. */
        public Recipe build(PluginRegistry registry) {
            Recipe raw = new Recipe(
                    name,
                    description,
                    seed,
                    calibration,
                    quantization,
                    backend,
                    preprocess,
                    initWeights,
                    initActivations,
                    optimize,
                    postprocess);
            return RecipeValidator.resolve(raw, registry, "recipe '" + name + "'");
        }
    }
}
