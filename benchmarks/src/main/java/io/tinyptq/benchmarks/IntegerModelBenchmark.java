package io.tinyptq.benchmarks;

import io.tinyptq.api.integer.IntegerModel;
import io.tinyptq.api.spi.IntegerRuntime;
import io.tinyptq.api.spi.ModelExecutor;
import io.tinyptq.kernel.Kernel;
import io.tinyptq.kernel.data.ModelFiles;
import io.tinyptq.kernel.eval.Evaluator;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The integer runtime ({@code reference}) on a fully-integer TFLite file, a batch of 32 samples per call: input
 * quantization, every int8 kernel, output dequantization. {@code -p model=FILE} picks the file (default: the MLPerf
 * Tiny int8 ResNet-8 in {@code ../shared/models}, read, never copied); inputs are uniform in the input's range.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(
        value = 1,
        jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-XX:+UseParallelGC"})
public class IntegerModelBenchmark {
    static final int BATCH = 32;

    @Param({"../shared/models/pretrainedResnet_quant.tflite"})
    String model;

    ModelExecutor executor;
    float[] input;

    @Setup
    public void setup() {
        Kernel kernel = Kernel.discover();
        IntegerModel m = ModelFiles.readInteger(kernel.registry(), Path.of(model));
        executor = compile(Evaluator.integerRuntime(kernel.registry(), null), m);
        String in = m.graph().inputs().keySet().iterator().next();
        var q = m.integerQuant(in);
        int size = m.graph().inputs().get(in).size();
        input = new float[BATCH * size];
        SplittableRandom r = new SplittableRandom(1);
        for (int i = 0; i < input.length; i++) {
            input[i] = q.scale(0) * (r.nextInt(256) - 128 - q.zeroPoint(0));
        }
    }

    private static <O extends Record> ModelExecutor compile(IntegerRuntime<O> runtime, IntegerModel m) {
        return runtime.compile(m, BATCH, runtime.defaultOptions());
    }

    @Benchmark
    public float[] forward() {
        return executor.forward(input, BATCH, ModelExecutor.ActivationListener.NONE);
    }

    @TearDown
    public void close() {
        executor.close();
    }
}
