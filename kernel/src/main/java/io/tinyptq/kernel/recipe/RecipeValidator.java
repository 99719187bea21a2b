package io.tinyptq.kernel.recipe;

import io.tinyptq.api.quant.QuantScheme;
import io.tinyptq.api.quant.QuantTarget;
import io.tinyptq.api.quant.Symmetry;
import io.tinyptq.api.spi.Plugin;
import io.tinyptq.api.spi.PluginKind;
import io.tinyptq.kernel.options.Location;
import io.tinyptq.kernel.options.OptionProblem;
import io.tinyptq.kernel.options.OptionValidator;
import io.tinyptq.kernel.options.OptionsException;
import io.tinyptq.kernel.registry.PluginNotFoundException;
import io.tinyptq.kernel.registry.PluginRegistry;
import java.util.ArrayList;
import java.util.List;

/**
 * The one validation every recipe passes, whether loaded from YAML or built in Java: each step names a known
 * plugin of its stage, carries options of that plugin's type (omitted options become the plugin's defaults),
 * and every option, the calibration and the quantization scheme satisfy their rules.
 */
public final class RecipeValidator {
    private RecipeValidator() {}

    /** Returns the recipe with every option resolved; throws {@link OptionsException} listing all problems. */
    public static Recipe resolve(Recipe raw, PluginRegistry registry, String source) {
        List<OptionProblem> problems = new ArrayList<>();
        OptionValidator.validate(raw.calibration(), "section 'calibration'", "", k -> Location.CODE, problems);
        OptionValidator.validate(raw.quantization(), "section 'quantization'", "", k -> Location.CODE, problems);
        checkTarget(raw.quantization(), problems);
        Step backend = step(PluginKind.BACKEND, "backend", raw.backend(), registry, problems);
        List<Step> pre = steps(PluginKind.PREPROCESS, "preprocess", raw.preprocess(), registry, problems);
        Step initW = step(PluginKind.INIT, "init.weights", raw.initWeights(), registry, problems);
        Step initA = step(PluginKind.INIT, "init.activations", raw.initActivations(), registry, problems);
        List<Step> opt = steps(PluginKind.OPTIMIZE, "optimize", raw.optimize(), registry, problems);
        List<Step> post = steps(PluginKind.POSTPROCESS, "postprocess", raw.postprocess(), registry, problems);
        if (!problems.isEmpty()) {
            throw new OptionsException(source, problems);
        }
        return new Recipe(
                raw.name(),
                raw.description(),
                raw.seed(),
                raw.calibration(),
                raw.quantization(),
                backend,
                pre,
                initW,
                initA,
                opt,
                post);
    }

    /**
     * What target {@code tflite} cannot represent: its activations and model input are int8 tensors (8 bits or fewer)
     * and its weights have zero point 0 (symmetric). Every stage works under it, so only the scheme is checked.
     */
    private static void checkTarget(QuantScheme q, List<OptionProblem> problems) {
        if (q.target() != QuantTarget.TFLITE) {
            return;
        }
        String section = "section 'quantization'";
        String int8 = "target tflite stores activations and the model input in int8 tensors: 8 bits or fewer"
                + " expected, got ";
        if (q.inputBits() > 8) {
            problems.add(new OptionProblem(Location.CODE, section, "input_bits", int8 + q.inputBits()));
        }
        for (int i = 0; i < q.overrides().size(); i++) {
            Integer ab = q.overrides().get(i).activationBits();
            if (ab != null && ab > 8) {
                problems.add(
                        new OptionProblem(Location.CODE, section, "overrides[" + i + "].activation_bits", int8 + ab));
            }
        }
        if (q.weightSymmetry() != Symmetry.SYMMETRIC) {
            problems.add(new OptionProblem(
                    Location.CODE,
                    section,
                    "weight_symmetry",
                    "target tflite needs symmetric"
                            + " weights (TFLite's integer weights have zero point 0), got asymmetric"));
        }
    }

    private static List<Step> steps(
            PluginKind kind, String section, List<Step> steps, PluginRegistry registry, List<OptionProblem> problems) {
        List<Step> out = new ArrayList<>();
        for (int i = 0; i < steps.size(); i++) {
            out.add(step(kind, section + "[" + i + "]", steps.get(i), registry, problems));
        }
        return out;
    }

    private static Step step(
            PluginKind kind, String section, Step step, PluginRegistry registry, List<OptionProblem> problems) {
        Plugin<?> plugin;
        try {
            plugin = registry.find(kind, step.plugin());
        } catch (PluginNotFoundException e) {
            problems.add(new OptionProblem(Location.CODE, "stage " + section, "plugin", e.getMessage()));
            return step;
        }
        String component = component(kind, section, plugin.name());
        Record options = step.options() != null ? step.options() : plugin.defaultOptions();
        if (!plugin.optionsType().isInstance(options)) {
            problems.add(new OptionProblem(
                    Location.CODE,
                    component,
                    "options",
                    "expected options of type " + plugin.optionsType().getName() + ", found "
                            + options.getClass().getName()));
            return step;
        }
        OptionValidator.validate(options, component, "", k -> Location.CODE, problems);
        return new Step(plugin.name(), options);
    }

    /** How messages name a step: {@code stage optimize[0], plugin 'round'}. */
    static String component(PluginKind kind, String section, String plugin) {
        String where = section.startsWith(kind.key()) ? section : kind.key() + " (" + section + ")";
        return "stage " + where + ", plugin '" + plugin + "'";
    }
}
