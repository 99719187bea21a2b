package io.tinyptq.benchmarks;

import io.tinyptq.backend.cpu.kernels.ConvShape;
import io.tinyptq.backend.cpu.kernels.DepthwiseConv2d;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The depthwise layers of {@link Layers} run by the plain scalar loops ({@code *Reference}, one thread): the
 * baseline the issue asks the fast depthwise kernels ({@link ConvBenchmark}) never to fall behind.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(
        value = 1,
        jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-XX:+UseParallelGC"})
public class DepthwisePlainLoopBenchmark {

    @Param({"DSCNN_DEPTHWISE_64_25x5", "MOBILENET_DEPTHWISE_8_48x48"})
    Layers layer;

    private ConvShape s;
    private float[] x;
    private float[] w;
    private float[] b;
    private float[] y;
    private float[] dy;
    private float[] dx;
    private float[] dw;

    @Setup(Level.Trial)
    public void setUp() {
        s = layer.shape;
        SplittableRandom rnd = new SplittableRandom(1);
        x = ConvBenchmark.random(rnd, s.inputSize());
        w = ConvBenchmark.random(rnd, layer.weightSize());
        b = ConvBenchmark.random(rnd, s.outC());
        y = new float[s.outputSize()];
        dy = ConvBenchmark.random(rnd, s.outputSize());
        dx = new float[s.inputSize()];
        dw = new float[w.length];
    }

    @Benchmark
    public float[] forward() {
        DepthwiseConv2d.forwardReference(
                x,
                s.batch(),
                s.inH(),
                s.inW(),
                s.inC(),
                w,
                s.outC() / s.inC(),
                s.kH(),
                s.kW(),
                b,
                s.strideH(),
                s.strideW(),
                s.padTop(),
                s.padLeft(),
                y,
                s.outH(),
                s.outW());
        return y;
    }

    @Benchmark
    public float[] forwardBackward() {
        forward();
        Arrays.fill(dx, 0f);
        Arrays.fill(dw, 0f);
        int m = s.outC() / s.inC();
        DepthwiseConv2d.backwardInputReference(
                dy,
                s.batch(),
                s.inH(),
                s.inW(),
                s.inC(),
                w,
                m,
                s.kH(),
                s.kW(),
                s.strideH(),
                s.strideW(),
                s.padTop(),
                s.padLeft(),
                dx,
                s.outH(),
                s.outW());
        DepthwiseConv2d.backwardWeightReference(
                x,
                dy,
                s.batch(),
                s.inH(),
                s.inW(),
                s.inC(),
                dw,
                m,
                s.kH(),
                s.kW(),
                s.strideH(),
                s.strideW(),
                s.padTop(),
                s.padLeft(),
                s.outH(),
                s.outW());
        return dw;
    }
}
