package io.tinyptq.kernel.run;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tinyptq.api.TinyPtqException;
import io.tinyptq.api.integer.IntegerModel;
import io.tinyptq.api.model.Model;
import io.tinyptq.api.quant.QuantTarget;
import io.tinyptq.api.quant.QuantizedModel;
import io.tinyptq.api.spi.CalibrationSet;
import io.tinyptq.api.spi.ComputeBackend;
import io.tinyptq.api.spi.Dataset;
import io.tinyptq.api.spi.PluginKind;
import io.tinyptq.api.spi.ProgressListener;
import io.tinyptq.api.spi.StageContext;
import io.tinyptq.kernel.data.DatasetDescriptors;
import io.tinyptq.kernel.data.ModelFiles;
import io.tinyptq.kernel.data.Subset;
import io.tinyptq.kernel.deploy.DeviceMemory;
import io.tinyptq.kernel.deploy.IntegerCheck;
import io.tinyptq.kernel.deploy.TfliteLowering;
import io.tinyptq.kernel.eval.Evaluation;
import io.tinyptq.kernel.eval.Evaluator;
import io.tinyptq.kernel.pipeline.BoundBackends;
import io.tinyptq.kernel.pipeline.PipelineResult;
import io.tinyptq.kernel.pipeline.PipelineRunner;
import io.tinyptq.kernel.pipeline.Provenance;
import io.tinyptq.kernel.pipeline.RunOptions;
import io.tinyptq.kernel.recipe.Recipe;
import io.tinyptq.kernel.registry.PluginRegistry;
import io.tinyptq.kernel.stats.ModelStats;
import io.tinyptq.kernel.store.AtomicFiles;
import io.tinyptq.kernel.store.Encodings;
import io.tinyptq.kernel.store.QuantizedModelStore;
import io.tinyptq.kernel.store.ResultsFolder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A complete PTQ run, as {@code tinyptq run} and sweeps perform it: load the FP model and data, split off the
 * calibration samples, evaluate the FP model, run the recipe's pipeline, evaluate the quantized model on the same
 * samples, and write the report, encodings, quantized model and provenance.
 *
 * <p>Calibration: {@code calibration.size} samples drawn without replacement with the run's seed, from the
 * calibration dataset when one is given, else from the evaluation dataset, whose remaining samples are then the
 * evaluation set (so no sample is used for both).
 */
public final class PtqRun {
    /** Written last by {@code run --out DIR}: its presence says the folder's results are complete. */
    public static final String REPORT_JSON = ResultsFolder.RECORD;

    /** The integer runtime's options that compute as LiteRT does (XNNPACK's arithmetic, lookup-table softmax). */
    static final List<String> LITERT_ARITHMETIC = List.of("arithmetic=xnnpack", "softmax=lookup_table");

    /** The integer runtime's options that round each requantization once, as the C export generates by default. */
    static final List<String> SINGLE_ROUNDING = List.of("arithmetic=tflite_single_rounding");

    private final PluginRegistry registry;
    private final PipelineRunner runner;

    public PtqRun(PluginRegistry registry, PipelineRunner runner) {
        this.registry = registry;
        this.runner = runner;
    }

    public RunReport run(RunRequest req, RunOptions options) {
        Recipe recipe = req.recipe();
        Model model;
        if (QuantizedModelStore.isStore(req.model())) {
            QuantizedModelStore.Stored stored = QuantizedModelStore.load(req.model());
            if (stored.quantized() != null) {
                throw new TinyPtqException(req.model() + " holds an already quantized model; run takes a float model"
                        + " (a .tflite file, or a directory written by 'tinyptq train')");
            }
            model = stored.model();
        } else {
            model = ModelFiles.read(registry, req.model());
        }
        Dataset data = DatasetDescriptors.open(
                registry, DatasetDescriptors.resolve(req.data(), req.datasets()), req.dataRoot());
        int n = recipe.calibration().size();
        Dataset evaluation;
        Dataset calibSource;
        int[] calibIdx;
        if (req.calibData() != null) {
            calibSource = DatasetDescriptors.open(
                    registry, DatasetDescriptors.resolve(req.calibData(), req.datasets()), req.dataRoot());
            calibIdx = draw(calibSource.size(), n, recipe.seed(), calibSource.name());
            evaluation = data;
        } else {
            calibSource = data;
            int[] perm = permutation(data.size(), recipe.seed());
            if (n >= data.size()) {
                throw new TinyPtqException("calibration.size = " + n + " leaves no sample of '" + data.name() + "' ("
                        + data.size() + " samples) to evaluate; lower it or pass --calib-data");
            }
            calibIdx = Arrays.copyOf(perm, n);
            int[] rest = Arrays.copyOfRange(perm, n, perm.length);
            Arrays.sort(rest);
            evaluation = new Subset(data, rest, "without the " + n + " calibration samples");
        }
        CalibrationSet calibration = calibration(calibSource, calibIdx, recipe.seed());
        ComputeBackend<?> backendPlugin =
                registry.find(PluginKind.BACKEND, recipe.backend().plugin(), ComputeBackend.class);
        // The pipeline says which backend runs what; this binding only evaluates the float model.
        StageContext.BoundBackend backend =
                BoundBackends.forRun(registry, backendPlugin, recipe.backend().options(), ProgressListener.NONE);

        long t0 = System.nanoTime();
        Evaluation fp = Evaluator.run(backend, model, null, evaluation, 64, req.evalLimit(), options.progress());
        fp.warning().ifPresent(options.progress()::message);
        double fpSeconds = (System.nanoTime() - t0) / 1e9;
        Path work = req.outDir() == null ? options.workDir() : req.outDir().resolve("work");
        PipelineResult result = runner.run(
                recipe.withCalibration(recipe.calibration().withSize(n)),
                model,
                calibration,
                new RunOptions(options.progress(), options.cancellation(), work));
        QuantizedModel qm = result.quantized();
        t0 = System.nanoTime();
        // Under target tflite the quantized model is its lowered integer model, run in TFLite's integer arithmetic:
        // the accuracy reported is the deployed model's. The float simulation the stages optimized runs beside it on
        // the same samples (as the device's QUANTIZE op reads them) and the two are compared tensor by tensor.
        double accuracy;
        long samples;
        IntegerCheck integer = null;
        double liteRt = Double.NaN;
        double singleRounding = Double.NaN;
        List<DeviceMemory> deviceMemory = List.of();
        Map<String, Double> seconds = new LinkedHashMap<>();
        seconds.put("fp_eval", fpSeconds);
        seconds.putAll(result.provenance().stageSeconds());
        if (recipe.quantization().target() == QuantTarget.TFLITE) {
            IntegerModel lowered = TfliteLowering.lower(qm, false);
            var runtime = Evaluator.integerRuntime(registry, null);
            integer = IntegerCheck.run(
                    backend, qm, runtime, lowered, evaluation, 64, req.evalLimit(), options.progress());
            accuracy = integer.integerAccuracy();
            samples = integer.samples();
            seconds.put("eval", (System.nanoTime() - t0) / 1e9);
            t0 = System.nanoTime();
            liteRt = Evaluator.runInteger(
                            runtime, LITERT_ARITHMETIC, lowered, evaluation, 64, req.evalLimit(), options.progress())
                    .accuracy();
            seconds.put("eval_xnnpack", (System.nanoTime() - t0) / 1e9);
            t0 = System.nanoTime();
            singleRounding = Evaluator.runInteger(
                            runtime, SINGLE_ROUNDING, lowered, evaluation, 64, req.evalLimit(), options.progress())
                    .accuracy();
            seconds.put("eval_single_rounding", (System.nanoTime() - t0) / 1e9);
            deviceMemory = DeviceMemory.of(registry, lowered);
        } else {
            Evaluation q = Evaluator.run(backend, qm.model(), qm, evaluation, 64, req.evalLimit(), options.progress());
            q.warning().ifPresent(options.progress()::message);
            accuracy = q.accuracy();
            samples = q.samples();
            seconds.put("eval", (System.nanoTime() - t0) / 1e9);
        }
        ModelStats stats = ModelStats.of(qm.model());
        int wb = recipe.quantization().weightBits();
        int ab = recipe.quantization().activationBits();
        RunReport report = new RunReport(
                recipe.name(),
                req.model().getFileName().toString(),
                evaluation.name(),
                calibration.source(),
                recipe.seed(),
                wb,
                ab,
                recipe.quantization().inputBits(),
                fp.accuracy(),
                accuracy,
                samples,
                stats.bops(wb, ab),
                stats.bops(32, 32),
                stats.peakMemoryBits(wb, ab),
                stats.peakMemoryBits(32, 32),
                seconds,
                result.provenance(),
                integer,
                liteRt,
                singleRounding,
                deviceMemory);
        if (req.outDir() != null) {
            write(req.outDir(), report, qm);
        }
        return report;
    }

    /** {@code n} distinct indices of {@code [0, size)}, drawn with {@code seed}. */
    static int[] draw(int size, int n, long seed, String source) {
        if (n > size) {
            throw new TinyPtqException("calibration.size = " + n + " but '" + source + "' holds " + size + " samples");
        }
        return Arrays.copyOf(permutation(size, seed), n);
    }

    /** A Fisher-Yates permutation of {@code [0, size)} seeded with {@code seed}. */
    static int[] permutation(int size, long seed) {
        int[] p = new int[size];
        for (int i = 0; i < size; i++) {
            p[i] = i;
        }
        SplittableRandom r = new SplittableRandom(seed ^ 0x5eed_ca1bL);
        for (int i = size - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    static CalibrationSet calibration(Dataset source, int[] idx, long seed) {
        int sample = source.sampleShape().size();
        float[] x = new float[idx.length * sample];
        int[] labels = new int[idx.length];
        for (int i = 0; i < idx.length; i++) {
            source.read(idx[i], x, i * sample);
            labels[i] = source.label(idx[i]);
        }
        return new CalibrationSet(
                source.name() + " (" + idx.length + " samples drawn with seed " + seed + ")",
                source.sampleShape(),
                x,
                labels);
    }

    /**
     * report.txt, encodings.json, model/ (the quantized model), provenance.yaml, then report.json with the SHA-256 of
     * each ({@link ResultsFolder}). Each file is replaced atomically ({@link AtomicFiles}); report.json, the record
     * that the results are complete, is written last, so that a folder whose files do not match its record holds an
     * interrupted write, which every reader refuses, and one whose files match it a complete run.
     */
    static void write(Path dir, RunReport report, QuantizedModel qm) {
        try {
            Files.createDirectories(dir);
            AtomicFiles.writeString(dir.resolve("report.txt"), report.text());
            Encodings.write(qm, dir.resolve("encodings.json"));
            QuantizedModelStore.save(qm.model(), qm, dir.resolve(ResultsFolder.MODEL));
            AtomicFiles.writeString(
                    dir.resolve("provenance.yaml"), report.provenance().recipeYaml());
            ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
            ObjectNode record = reportJson(json, report);
            ObjectNode files = record.putObject(ResultsFolder.DIGESTS);
            ResultsFolder.digests(dir).forEach(files::put);
            AtomicFiles.write(dir.resolve(REPORT_JSON), out -> json.writeValue(out, record));
        } catch (IOException e) {
            throw new TinyPtqException("cannot write run results to " + dir + ": " + e.getMessage(), e);
        }
    }

    /** The report as one line of JSON ({@code tinyptq run --json}). */
    public static String jsonLine(RunReport r) {
        ObjectMapper m = new ObjectMapper();
        try {
            return m.writeValueAsString(reportJson(m, r));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The report as JSON: the fields of {@code --json} first, then details and provenance. */
    public static ObjectNode reportJson(ObjectMapper json, RunReport r) {
        ObjectNode n = json.createObjectNode();
        n.put("fp_accuracy", r.fpAccuracy());
        n.put("accuracy", r.accuracy());
        n.put("bops", r.bops());
        n.put("memory_bits", r.memoryBits());
        ObjectNode sec = n.putObject("seconds");
        r.seconds().forEach(sec::put);
        n.put("recipe", r.recipe());
        n.put("seed", r.seed());
        n.put("weight_bits", r.weightBits());
        n.put("activation_bits", r.activationBits());
        n.put("input_bits", r.inputBits());
        n.put("model", r.model());
        n.put("dataset", r.dataset());
        n.put("samples", r.evalSamples());
        n.put("calibration", r.calibration());
        n.put("fp_bops", r.fpBops());
        n.put("fp_memory_bits", r.fpMemoryBits());
        if (r.integer() != null) {
            IntegerCheck c = r.integer();
            n.putObject("integer")
                    .put("accuracy", c.integerAccuracy())
                    .put("xnnpack_accuracy", r.liteRtAccuracy())
                    .put("single_rounding_accuracy", r.singleRoundingAccuracy())
                    .put("simulated_accuracy", c.simulatedAccuracy())
                    .put("samples", c.samples())
                    .put("outputs", c.outputs())
                    .put("identical_outputs", c.identicalOutputs())
                    .put("max_lsb", c.maxLsb())
                    .put("same_predictions", c.samePrediction());
            ObjectNode t = n.with("integer").putObject("tensors");
            c.tensors()
                    .forEach((name, a) -> t.putObject(name)
                            .put("values", a.values())
                            .put("identical", a.identical())
                            .put("max_lsb", a.maxLsb()));
        }
        DeviceMemory.putJson(n, r.deviceMemory());
        n.set("provenance", provenanceJson(json, r.provenance()));
        return n;
    }

    static ObjectNode provenanceJson(ObjectMapper json, Provenance p) {
        ObjectNode n = json.createObjectNode();
        n.put("tinyptq", p.tinyptqVersion());
        n.put("java", p.javaVersion());
        n.put("os", p.os());
        n.put("started", p.started().toString());
        n.put("seed", p.seed());
        n.put("recipe", p.recipeName());
        n.put("model", p.model());
        n.put("calibration", p.calibrationSource());
        var plugins = n.putArray("plugins");
        p.plugins()
                .forEach(u -> plugins.addObject()
                        .put("stage", u.stage())
                        .put("name", u.name())
                        .put("class", u.className())
                        .put("version", u.version()));
        n.putObject("backend")
                .put("name", p.backend().backend())
                .put("device", p.backend().device())
                .put("threads", p.backend().threads())
                .put("simd_lanes", p.backend().simdLanes());
        n.put("recipe_yaml", p.recipeYaml());
        return n;
    }
}
