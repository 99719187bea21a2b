package io.tinyptq.benchmarks;

import io.tinyptq.api.model.Model;
import io.tinyptq.api.model.Unit;
import io.tinyptq.api.model.Units;
import io.tinyptq.api.quant.QuantScheme;
import io.tinyptq.api.quant.QuantizedModel;
import io.tinyptq.api.spi.CalibrationSet;
import io.tinyptq.api.spi.ModelExecutor;
import io.tinyptq.api.spi.ProgressListener;
import io.tinyptq.api.spi.StepControl;
import io.tinyptq.api.spi.TrainingProblem;
import io.tinyptq.api.spi.TrainingSession;
import io.tinyptq.api.spi.TrainingSettings;
import io.tinyptq.api.spi.Variable;
import io.tinyptq.backend.cpu.CpuBackend;
import io.tinyptq.kernel.Kernel;
import io.tinyptq.kernel.pipeline.CancellationToken;
import io.tinyptq.kernel.pipeline.RunOptions;
import io.tinyptq.kernel.recipe.Calibration;
import io.tinyptq.kernel.recipe.Recipe;
import io.tinyptq.plugins.optimize.Granularity;
import io.tinyptq.plugins.optimize.ReconstructionLoss;
import io.tinyptq.plugins.optimize.RoundingOptimizer;
import io.tinyptq.plugins.optimize.UnitActivations;
import io.tinyptq.testkit.RoundingControl;
import io.tinyptq.testkit.TinyModels;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Wall-clock timing of AdaRound reconstruction on MLPerf Tiny's ResNet-8 (random He-initialised weights, random
 * calibration images; the arithmetic per iteration does not depend on the values), W4A4, layer granularity,
 * batch 32, 1024 calibration samples. A plain harness rather than JMH: a session holds ~100 MB of cached unit
 * inputs and targets, and the full run is one long measurement.
 *
 * <pre>
 *   layers [threads...]          time per iteration of each ResNet-8 layer unit (default threads: 1 2);
 *                                -Dlayer=NAME times one unit, -Drounds=R rounds of 100 steps (default 7)
 *   run ITERATIONS [threads]     one full `round` pipeline run (init + reconstruction of every unit) and an
 *                                init-only run, so the reconstruction time can be extrapolated to 20,000
 * </pre>
 * Run with {@code java --add-modules=jdk.incubator.vector -XX:+UseParallelGC -cp benchmarks/target/benchmarks.jar
 * io.tinyptq.benchmarks.ReconstructionTiming ...}.
 */
public final class ReconstructionTiming {
    static final int SAMPLES = 1024;
    static final int BATCH = 32;
    static final Kernel KERNEL = Kernel.discover();

    private ReconstructionTiming() {}

    public static void main(String[] args) {
        String mode = args.length == 0 ? "layers" : args[0];
        Model model = TinyModels.resnet8(1);
        CalibrationSet calib = new CalibrationSet(
                "uniform(seed 2)",
                model.shape("image"),
                TinyModels.uniform(2, SAMPLES, model.shape("image"), -1f, 1f),
                new int[0]);
        System.out.printf(
                Locale.ROOT,
                "java %s, %d processors, %s%n",
                Runtime.version(),
                Runtime.getRuntime().availableProcessors(),
                new CpuBackend().info(new CpuBackend.Options(0)).device());
        switch (mode) {
            case "layers" -> {
                int[] threads = args.length > 1
                        ? Arrays.stream(args, 1, args.length)
                                .mapToInt(Integer::parseInt)
                                .toArray()
                        : new int[] {1, 2};
                layers(model, calib, threads);
            }
            case "run" ->
                fullRun(model, calib, Integer.parseInt(args[1]), args.length > 2 ? Integer.parseInt(args[2]) : 0);
            default -> throw new IllegalArgumentException("unknown mode " + mode + "; use layers or run");
        }
    }

    static Recipe.Builder recipe(int threads) {
        return Recipe.builder("resnet8-w4a4-round")
                .seed(7)
                .calibration(new Calibration(SAMPLES, BATCH))
                .quantization(QuantScheme.of(4, 4))
                .backend("cpu", new CpuBackend.Options(threads))
                .initWeights("minmax", null)
                .initActivations("minmax", null);
    }

    /** Median time per iteration of every layer unit, for each thread count. */
    static void layers(Model model, CalibrationSet calib, int[] threads) {
        QuantizedModel qm = KERNEL.runner()
                .run(recipe(1).build(KERNEL.registry()), model, calib, RunOptions.defaults())
                .quantized();
        System.out.println("| layer | shape (in -> out) | "
                + String.join(
                        " | ",
                        Arrays.stream(threads)
                                .mapToObj(t -> t == 1 ? "1T median | 1T min | 1T CPU" : t + "T median | " + t + "T min")
                                .toList())
                + " |");
        String only = System.getProperty("layer"); // -Dlayer=NAME times one unit (for profiling)
        for (Unit unit : Units.layers(model)) {
            if (only != null && !only.equals(unit.name())) {
                continue;
            }
            Model slice = Units.slice(qm.model(), unit);
            float[] inputs = capture(
                    model, unit.input(), calib, slice.shape(unit.input()).size());
            float[] targets = capture(
                    model, unit.output(), calib, slice.shape(unit.output()).size());
            StringBuilder row = new StringBuilder("| " + unit.name() + " | " + slice.shape(unit.input()) + " -> "
                    + slice.shape(unit.output()) + " |");
            for (int t : threads) {
                TrainingProblem problem = new TrainingProblem(
                        qm.restrict(slice), Set.of(Variable.ROUNDING), inputs, targets, SAMPLES, true, null);
                try (TrainingSession session = new CpuBackend()
                        .train(problem, new TrainingSettings(1e-3, BATCH, 5), new CpuBackend.Options(t))) {
                    double[] ms = perIteration(session);
                    row.append(
                            t == 1
                                    ? String.format(Locale.ROOT, " %.3f | %.3f | %.3f |", ms[0], ms[1], ms[2])
                                    : String.format(Locale.ROOT, " %.3f | %.3f |", ms[0], ms[1]));
                }
            }
            System.out.println(row);
        }
    }

    /**
     * Per-iteration times over rounds of 100 steps (regularizer on, as in 80 % of AdaRound's steps) after 300
     * warm-up steps: {median wall, minimum wall, median CPU time of the calling thread}. On a shared machine the
     * calling thread's CPU time is the steadiest figure for one thread (it excludes time the thread waited for a
     * core); with two threads it leaves out the worker's share, so only the wall times apply.
     */
    static double[] perIteration(TrainingSession session) {
        StepControl rounding = RoundingControl.of(0.01, 10, 9);
        session.run(200, StepControl.NONE);
        session.run(100, rounding);
        ThreadMXBean bean = ManagementFactory.getThreadMXBean();
        double[] wall = new double[Integer.getInteger("rounds", 7)];
        double[] cpu = new double[wall.length];
        for (int i = 0; i < wall.length; i++) {
            long c0 = bean.getCurrentThreadCpuTime();
            long t0 = System.nanoTime();
            session.run(100, rounding);
            wall[i] = (System.nanoTime() - t0) / 1e6 / 100;
            cpu[i] = (bean.getCurrentThreadCpuTime() - c0) / 1e6 / 100;
        }
        Arrays.sort(wall);
        Arrays.sort(cpu);
        return new double[] {wall[wall.length / 2], wall[0], cpu[cpu.length / 2]};
    }

    /** The first {@link #SAMPLES} values of {@code tensor} when the float model runs on the calibration data. */
    static float[] capture(Model model, String tensor, CalibrationSet calib, int size) {
        float[] out = new float[SAMPLES * size];
        int sample = calib.sampleShape().size();
        float[] in = new float[BATCH * sample];
        try (ModelExecutor exec = new CpuBackend().compile(model, null, BATCH, new CpuBackend.Options(0))) {
            for (int start = 0; start < SAMPLES; start += BATCH) {
                System.arraycopy(calib.data(), start * sample, in, 0, BATCH * sample);
                int offset = start * size;
                exec.forward(in, BATCH, (t, values, off, len) -> {
                    if (t.equals(tensor)) {
                        System.arraycopy(values, off, out, offset, len);
                    }
                });
            }
        }
        return out;
    }

    /**
     * A full W4A4 `round` run at {@code iterations} per unit, and an init-only run for comparison. The extrapolation
     * to 20,000 iterations adds, per unit, its steady per-step time (from the progress reports every 100 steps,
     * first report to last) times the missing steps; fixed costs (init, capturing unit inputs, session setup,
     * commit) are counted once, as measured.
     */
    static void fullRun(Model model, CalibrationSet calib, int iterations, int threads) {
        long t0 = System.nanoTime();
        KERNEL.runner().run(recipe(threads).build(KERNEL.registry()), model, calib, RunOptions.defaults());
        double initOnly = (System.nanoTime() - t0) / 1e9;
        var round = new RoundingOptimizer.Options(
                Granularity.LAYER,
                iterations,
                1e-3,
                BATCH,
                1024,
                UnitActivations.QUANTIZED,
                ReconstructionLoss.MSE,
                new RoundingOptimizer.Regularizer(0.01, 20, 2, 0.2),
                0);
        Recipe r = recipe(threads).optimize("round", round).build(KERNEL.registry());
        long start = System.nanoTime();
        Map<String, long[]> reports = new LinkedHashMap<>(); // task -> {first done, first ns, last ns}
        ProgressListener log = new ProgressListener() {
            @Override
            public void progress(String task, long done, long total) {
                if (!task.startsWith("round ")) {
                    return;
                }
                long now = System.nanoTime();
                long[] rep = reports.computeIfAbsent(task, k -> new long[] {done, now, now});
                rep[2] = now;
            }

            @Override
            public void message(String text) {
                System.out.printf(Locale.ROOT, "%8.1f s  %s%n", (System.nanoTime() - start) / 1e9, text);
            }
        };
        KERNEL.runner().run(r, model, calib, new RunOptions(log, new CancellationToken(), null));
        double total = (System.nanoTime() - start) / 1e9;
        double steady = 0;
        double extra = 0;
        for (var e : reports.entrySet()) {
            long[] rep = e.getValue();
            double perStep = (rep[2] - rep[1]) / 1e9 / (iterations - rep[0]);
            steady += perStep;
            extra += perStep * (20_000 - iterations);
            System.out.printf(Locale.ROOT, "  %-28s %.3f ms per step%n", e.getKey(), perStep * 1e3);
        }
        System.out.printf(
                Locale.ROOT,
                "threads %s: init-only run %.1f s; round run at %d iterations x %d units:"
                        + " %.1f s; steady step time summed over units %.2f ms; extrapolated to 20,000 iterations:"
                        + " %.1f s (%.1f min); 5,000 iterations of every unit: %.1f s%n",
                threads == 0 ? "all" : threads,
                initOnly,
                iterations,
                reports.size(),
                total,
                steady * 1e3,
                total + extra,
                (total + extra) / 60,
                steady * 5_000);
    }
}
