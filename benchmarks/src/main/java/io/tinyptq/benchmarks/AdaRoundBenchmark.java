package io.tinyptq.benchmarks;

import io.tinyptq.backend.cpu.engine.Adam;
import io.tinyptq.backend.cpu.engine.Graph;
import io.tinyptq.backend.cpu.kernels.AdaRound;
import io.tinyptq.backend.cpu.kernels.Conv2d;
import io.tinyptq.backend.cpu.kernels.ConvShape;
import io.tinyptq.backend.cpu.kernels.ConvWorkspace;
import io.tinyptq.backend.cpu.kernels.FakeQuant;
import io.tinyptq.backend.cpu.kernels.Losses;
import io.tinyptq.backend.cpu.kernels.Parallel;
import java.util.Arrays;
import java.util.List;
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
 * One AdaRound reconstruction iteration of ResNet-8's 32->32 3x3 convolution at 16x16, batch 32, 8-bit
 * per-channel weights: soft-rounded weights {@code W~(V)}, convolution of the (constant, already fake-quantized)
 * calibration input, 8-bit fake quantization of the output, MSE against the float layer's output, then backward
 * through the fake quantization (straight-through), the weight gradient GEMM, {@code dW~/dV} plus the rounding
 * regularizer, and one Adam step on V. The input is constant across iterations, so it is loaded and its im2col
 * columns packed once at setup (as ENGINE-NOTES recommends); no input gradient is computed.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(
        value = 1,
        jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-XX:+UseParallelGC"})
public class AdaRoundBenchmark {

    @Param({"1", "2"})
    int threads;

    private static final ConvShape S = ConvShape.same(32, 16, 16, 32, 32, 3, 3, 1, 1);
    private static final int INNER = 3 * 3 * 32;

    private Parallel par;
    private ConvWorkspace ws;
    private float[] w;
    private float[] scale;
    private io.tinyptq.backend.cpu.engine.Param v;
    private Adam adam;
    private float[] wq;
    private float[] dwq;
    private float[] y;
    private float[] yq;
    private float[] target;
    private float[] dyq;
    private float[] dy;
    private final float[] outScale = {0.05f};
    private final float[] outZero = {0f};

    @Setup(Level.Trial)
    public void setUp() {
        par = new Parallel(threads);
        SplittableRandom rnd = new SplittableRandom(3);
        float[] x = ConvBenchmark.random(rnd, S.inputSize());
        w = ConvBenchmark.random(rnd, S.outC() * INNER);
        for (int i = 0; i < w.length; i++) {
            w[i] *= 0.1f;
        }
        scale = new float[S.outC()];
        Arrays.fill(scale, 0.1f / 127);
        float[] vData = new float[w.length];
        AdaRound.initReference(w, 1, S.outC(), INNER, scale, vData);
        Graph holder = new Graph(1, Parallel.serial());
        v = holder.param("v", vData, S.outC(), 3, 3, 32);
        adam = new Adam(List.of(v), 1e-3f);
        wq = new float[w.length];
        dwq = new float[w.length];
        y = new float[S.outputSize()];
        yq = new float[S.outputSize()];
        dyq = new float[S.outputSize()];
        dy = new float[S.outputSize()];
        target = new float[S.outputSize()];
        ws = new ConvWorkspace(S, threads);
        ws.loadInput(S, x, par);
        Conv2d.forwardLoaded(S, w, null, target, ws, par);
        ws.packColumns(par);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        par.close();
    }

    @Benchmark
    public float iteration() {
        AdaRound.forward(w, v.data(), 1, S.outC(), INNER, scale, null, -128, 127, wq);
        Conv2d.forwardLoaded(S, wq, null, y, ws, par);
        FakeQuant.forward(y, 0, 1, 1, y.length, outScale, outZero, -128, 127, yq, 0, par);
        Arrays.fill(dyq, 0f);
        float loss = Losses.mse(yq, 0, target, 0, yq.length, dyq, 0, 1f);
        Arrays.fill(dy, 0f);
        FakeQuant.backward(y, 0, dyq, 0, 1, 1, y.length, outScale, outZero, -128, 127, 1f, dy, 0, null, null);
        Arrays.fill(dwq, 0f);
        Conv2d.backwardWeightLoaded(S, dy, dwq, ws, par);
        float[] dv = v.grad();
        Arrays.fill(dv, 0f);
        AdaRound.backward(w, v.data(), dwq, 1, S.outC(), INNER, scale, null, -128, 127, 10f, 0.01f, dv);
        adam.step();
        return loss;
    }
}
