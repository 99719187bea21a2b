package io.tinyptq.benchmarks;

import io.tinyptq.backend.cpu.kernels.Conv2d;
import io.tinyptq.backend.cpu.kernels.ConvShape;
import io.tinyptq.backend.cpu.kernels.ConvWorkspace;
import io.tinyptq.backend.cpu.kernels.DepthwiseConv2d;
import io.tinyptq.backend.cpu.kernels.Elementwise;
import io.tinyptq.backend.cpu.kernels.Parallel;
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
import org.openjdk.jmh.annotations.TearDown;

/**
 * Convolution layers at batch 32: {@code forward} (input copied into the workspace, weights packed, GEMM or
 * direct depthwise kernel, bias) and {@code forwardBackward} (forward, then input, weight and bias gradients,
 * gradients zeroed first as a training step does). FLOPs: forward {@code 2*MACs}, forward+backward
 * {@code 3 * 2*MACs} (the input and the weight gradient each cost as many MACs as the forward).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(
        value = 1,
        jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-XX:+UseParallelGC"})
public class ConvBenchmark {

    @Param
    Layers layer;

    @Param({"1", "2"})
    int threads;

    private Parallel par;
    private ConvShape s;
    private float[] x;
    private float[] w;
    private float[] b;
    private float[] y;
    private float[] dy;
    private float[] dx;
    private float[] dw;
    private float[] db;
    private ConvWorkspace convWs;
    private DepthwiseConv2d.Workspace dwWs;

    @Setup(Level.Trial)
    public void setUp() {
        par = new Parallel(threads);
        s = layer.shape;
        SplittableRandom rnd = new SplittableRandom(1);
        x = random(rnd, s.inputSize());
        w = random(rnd, layer.weightSize());
        b = random(rnd, s.outC());
        y = new float[s.outputSize()];
        dy = random(rnd, s.outputSize());
        dx = new float[s.inputSize()];
        dw = new float[w.length];
        db = new float[b.length];
        if (layer.depthwise) {
            dwWs = new DepthwiseConv2d.Workspace(s);
        } else {
            convWs = new ConvWorkspace(s, threads);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        par.close();
    }

    @Benchmark
    public float[] forward() {
        if (layer.depthwise) {
            DepthwiseConv2d.forward(s, x, w, b, y, dwWs, par);
        } else {
            Conv2d.forward(s, x, w, b, y, convWs, par);
        }
        return y;
    }

    @Benchmark
    public float[] forwardBackward() {
        forward();
        Arrays.fill(dx, 0f);
        Arrays.fill(dw, 0f);
        Arrays.fill(db, 0f);
        if (layer.depthwise) {
            DepthwiseConv2d.backwardInput(s, dy, w, dx, dwWs, par);
            DepthwiseConv2d.backwardWeightLoaded(s, dy, dw, dwWs, par);
        } else {
            Conv2d.backwardInput(s, dy, w, dx, convWs, par);
            Conv2d.backwardWeightLoaded(s, dy, dw, convWs, par);
        }
        Elementwise.sumRows(dy, s.outputPixels(), s.outC(), db);
        return dw;
    }

    static float[] random(SplittableRandom rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (rnd.nextDouble() * 2 - 1);
        }
        return a;
    }
}
