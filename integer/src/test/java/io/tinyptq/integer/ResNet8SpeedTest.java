package io.tinyptq.integer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyptq.api.integer.IntegerModel;
import io.tinyptq.api.model.Activation;
import io.tinyptq.api.model.Op;
import io.tinyptq.api.model.Padding;
import io.tinyptq.api.model.Shape;
import io.tinyptq.api.spi.ModelExecutor;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * MLPerf Tiny's ResNet-8 (32x32x3 input, three residual stages of 16, 32, 64 channels, about 12.5 M MACs) with
 * random int8 weights: the interpreter must evaluate a CIFAR-10 test set (10,000 images) well under a minute.
 */
class ResNet8SpeedTest {
    private static final Random RND = new Random(11);

    private static int[] random(int n, int bound) {
        int[] v = new int[n];
        for (int i = 0; i < n; i++) {
            v[i] = RND.nextInt(2 * bound + 1) - bound;
        }
        return v;
    }

    private static float[] scales(int n) {
        float[] s = new float[n];
        for (int i = 0; i < n; i++) {
            s[i] = 0.002f + 0.004f * RND.nextFloat();
        }
        return s;
    }

    private static void conv(IntModelBuilder b, String name, String in, String out, int cin, int cout, int k,
                             int stride, Activation act) {
        float[] ws = scales(cout);
        float[] bs = new float[cout];
        for (int i = 0; i < cout; i++) {
            bs[i] = 0.05f * ws[i];
        }
        b.weight(name + "/w", Shape.of(cout, k, k, cin), 0, random(cout * k * k * cin, 127), ws);
        b.bias(name + "/b", random(cout, 2000), bs);
        b.op(new Op.Conv2D(name, in, name + "/w", name + "/b", out, stride, stride, Padding.SAME, act), 0.05f,
                act == Activation.NONE ? 0 : -128);
    }

    static IntegerModel resnet8() {
        IntModelBuilder b = new IntModelBuilder("resnet8").input("x", Shape.of(32, 32, 3), 1f / 128, 0);
        conv(b, "c0", "x", "s0", 3, 16, 3, 1, Activation.RELU);
        String in = "s0";
        int cin = 16;
        int stage = 1;
        for (int cout : new int[] {16, 32, 64}) {
            int stride = cout == 16 ? 1 : 2;
            conv(b, "b" + stage + "a", in, "b" + stage + "a", cin, cout, 3, stride, Activation.RELU);
            conv(b, "b" + stage + "b", "b" + stage + "a", "b" + stage + "b", cout, cout, 3, 1, Activation.NONE);
            String shortcut = in;
            if (stride != 1) {
                conv(b, "b" + stage + "s", in, "b" + stage + "s", cin, cout, 1, stride, Activation.NONE);
                shortcut = "b" + stage + "s";
            }
            b.op(new Op.Add("b" + stage + "add", "b" + stage + "b", shortcut, "b" + stage + "out", Activation.RELU),
                    0.05f, -128);
            in = "b" + stage + "out";
            cin = cout;
            stage++;
        }
        b.op(new Op.Pool("pool", in, "pool", Op.PoolKind.AVG, 8, 8, 8, 8, Padding.VALID, Activation.NONE), 0.05f,
                -128);
        b.op(new Op.Reshape("flat", "pool", "flat", Shape.of(64)), 0.05f, -128);
        b.weight("fc/w", Shape.of(10, 64), 0, random(640, 127), scales(10));
        b.op(new Op.FullyConnected("fc", "flat", "fc/w", null, "logits", Activation.NONE), 0.1f, 0);
        b.op(new Op.Softmax("softmax", "logits", "y"), 1f / 256, -128);
        return b.build();
    }

    @Test
    void evaluatesResNet8FastEnough() {
        IntegerModel m = resnet8();
        int batch = 50;
        float[] x = new float[batch * 32 * 32 * 3];
        for (int i = 0; i < x.length; i++) {
            x[i] = RND.nextFloat() * 2 - 1;
        }
        try (ModelExecutor exec = new ReferenceIntegerRuntime().compile(m, batch, new ReferenceIntegerRuntime().defaultOptions())) {
            exec.forward(x, batch, ModelExecutor.ActivationListener.NONE); // warm up the JIT
            exec.forward(x, batch, ModelExecutor.ActivationListener.NONE);
            long t0 = System.nanoTime();
            int rounds = 4;
            float[] y = null;
            for (int r = 0; r < rounds; r++) {
                y = exec.forward(x, batch, ModelExecutor.ActivationListener.NONE);
            }
            double msPerImage = (System.nanoTime() - t0) / 1e6 / (rounds * batch);
            assertEquals(batch * 10, y.length);
            // 10,000 images in well under a minute needs < 6 ms each; the bound leaves room for a loaded machine
            assertTrue(msPerImage < 12, "ResNet-8 took " + msPerImage + " ms per image");
        }
    }
}
