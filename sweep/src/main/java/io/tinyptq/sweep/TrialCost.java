package io.tinyptq.sweep;

import io.tinyptq.kernel.data.ModelFiles;
import io.tinyptq.kernel.options.YamlNode;
import io.tinyptq.kernel.registry.PluginRegistry;
import io.tinyptq.kernel.stats.ModelStats;
import java.io.StringReader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.ToLongFunction;

/**
 * A trial's expected work, in multiply-accumulates, so that a sweep running several trials at once starts the longest
 * first ({@link #longestFirst}): ending on short trials keeps every slot busy to the end instead of leaving one long
 * trial running alone (longest-processing-time-first list scheduling, at most 4/3 of the best makespan).
 *
 * <p>Work = the model's MACs per sample ({@link ModelStats#macs()}) x the samples pushed through it:
 *
 * <ul>
 *   <li>evaluation: 2 x the evaluation limit (the float and the quantized model; {@value #FULL_EVALUATION} samples
 *       when the trial evaluates a whole dataset);
 *   <li>calibration: {@value #CALIBRATION_PASSES} x the calibration size (initialization statistics and the cached
 *       inputs and targets of each unit);
 *   <li>every optimize step whose options have {@code iterations} and {@code batch_size} (the reconstruction
 *       plugins'): 3 x iterations x batch size, a forward and two backward passes (inputs and variables) through
 *       every unit once per iteration, the units together being the model.
 * </ul>
 *
 * Only the order matters, so the estimate may be off by a constant factor; a model it cannot read costs its MACs
 * as 1 (the trial itself then reports why it cannot run).
 */
public final class TrialCost {
    static final int FULL_EVALUATION = 10_000;
    static final int CALIBRATION_PASSES = 4;

    private final ToLongFunction<String> macs;
    private final Map<String, Long> macsByModel = new ConcurrentHashMap<>();
    private final Map<String, Double> byTrial = new ConcurrentHashMap<>();

    /** @param macs multiply-accumulates per sample of a trial's {@link Trial#modelFile()} */
    public TrialCost(ToLongFunction<String> macs) {
        this.macs = macs;
    }

    /** Reads each model file once with the registry's format plugins. */
    public static TrialCost of(PluginRegistry registry) {
        return new TrialCost(
                file -> ModelStats.of(ModelFiles.read(registry, Path.of(file))).macs());
    }

    /** The trial's expected multiply-accumulates, worked out once per trial key (sorting and the ETA ask often). */
    public double estimate(Trial t) {
        return byTrial.computeIfAbsent(t.key(), k -> work(t));
    }

    private double work(Trial t) {
        long perSample = macsByModel.computeIfAbsent(t.modelFile(), f -> {
            try {
                return Math.max(1, macs.applyAsLong(f));
            } catch (RuntimeException e) {
                return 1L;
            }
        });
        double evaluation = 2.0 * (t.evalLimit() > 0 ? t.evalLimit() : FULL_EVALUATION);
        double calibration = (double) CALIBRATION_PASSES * t.calibSize();
        return perSample * (evaluation + calibration + 3.0 * optimizeSamples(t.recipeYaml()));
    }

    /** The trials, the most expensive first; trials of equal cost keep their order (the grid's). */
    public List<Trial> longestFirst(List<Trial> trials) {
        List<Trial> sorted = new ArrayList<>(trials);
        sorted.sort(Comparator.comparingDouble(this::estimate).reversed());
        return sorted;
    }

    /** Sum of iterations x batch size over the resolved recipe's optimize steps. */
    static double optimizeSamples(String recipeYaml) {
        YamlNode root = YamlNode.parse(new StringReader(recipeYaml), "trial recipe");
        if (!(value(root, "optimize") instanceof YamlNode.ListNode steps)) {
            return 0;
        }
        double samples = 0;
        for (YamlNode step : steps.items()) {
            YamlNode options = value(step, "options");
            samples += number(value(options, "iterations")) * number(value(options, "batch_size"));
        }
        return samples;
    }

    private static YamlNode value(YamlNode node, String key) {
        if (node instanceof YamlNode.MapNode map && map.entries().get(key) != null) {
            return map.entries().get(key).value();
        }
        return null;
    }

    private static double number(YamlNode node) {
        if (node instanceof YamlNode.Scalar s) {
            try {
                return Double.parseDouble(s.text());
            } catch (NumberFormatException e) {
                return 0;
            }
        }
        return 0;
    }
}
