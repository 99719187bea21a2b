package io.tinyptq.benchmarks;

import io.tinyptq.backend.cpu.kernels.ConvRoundingSearch;
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
 * One sweep of the exact rounding search ({@code refine_sweeps}) over one output channel of a ResNet-8 convolution
 * with ReLU, on 256 samples: every one of the channel's {@code 3x3xC} weights judged against all samples' outputs.
 * The setup runs the search to convergence first, so the measured sweep judges every weight and keeps no flip (a
 * kept flip costs one more pass over the same elements). A layer's full sweep on {@code N} samples costs this times
 * its output channels times {@code N / 256}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-XX:+UseParallelGC"})
public class RoundingSearchBenchmark {

    /** ResNet-8 layer shapes: input size, input channels, stride (output channels do not enter one channel's cost). */
    @Param({"32x16s1", "32x16s2", "16x32s1", "8x64s1"})
    String layer;

    static final int SAMPLES = 256;

    private ConvRoundingSearch.Geometry g;
    private float[] x;
    private float[] z;
    private float[] e;
    private float[] down;
    private float[] up;
    private boolean[] roundUp;

    @Setup(Level.Trial)
    public void setUp() {
        String[] p = layer.split("[xs]");
        int size = Integer.parseInt(p[0]);
        int channels = Integer.parseInt(p[1]);
        int stride = Integer.parseInt(p[2]);
        int out = (size + stride - 1) / stride;
        int pad = stride == 1 ? 1 : 0;
        g = new ConvRoundingSearch.Geometry(SAMPLES, size, size, channels, 3, 3, stride, stride, pad, pad, out, out);
        SplittableRandom r = new SplittableRandom(5);
        float[] nhwc = new float[SAMPLES * size * size * channels];
        for (int i = 0; i < nhwc.length; i++) {
            nhwc[i] = r.nextInt(2) == 0 ? 0f : 0.25f * r.nextInt(1, 8); // a 3-bit post-ReLU activation
        }
        x = new float[(int) (SAMPLES * g.splitSize())];
        ConvRoundingSearch.split(nhwc, SAMPLES, 0, g, x);
        int d = g.fanIn();
        down = new float[d];
        up = new float[d];
        roundUp = new boolean[d];
        float[] w = new float[d];
        float[] fp = new float[d];
        for (int j = 0; j < d; j++) {
            fp[j] = (float) (r.nextGaussian() * 0.1);
            down[j] = 0.05f * (float) Math.floor(fp[j] / 0.05f);
            up[j] = down[j] + 0.05f;
            roundUp[j] = r.nextBoolean();
            w[j] = roundUp[j] ? up[j] : down[j];
        }
        z = new float[g.channelSize()];
        e = new float[g.channelSize()];
        float[] t = new float[g.channelSize()];
        ConvRoundingSearch.preActivation(x, g, fp, 0.1f, t);
        ConvRoundingSearch.preActivation(x, g, w, 0.1f, z);
        for (int i = 0; i < z.length; i++) {
            e[i] = Math.max(z[i], 0f) - Math.max(t[i], 0f);
        }
        ConvRoundingSearch.refine(x, g, z, e, 0f, Float.POSITIVE_INFINITY, down, up, roundUp, 1000);
    }

    @Benchmark
    public int sweep() {
        return ConvRoundingSearch.refine(x, g, z, e, 0f, Float.POSITIVE_INFINITY, down, up, roundUp, 1);
    }
}
