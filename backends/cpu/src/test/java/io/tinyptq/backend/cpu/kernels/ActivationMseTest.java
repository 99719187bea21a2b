package io.tinyptq.backend.cpu.kernels;

import static io.tinyptq.backend.cpu.kernels.TestData.uniform;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** The fused activation + MSE tail: fast paths against the references, and the loss against a direct formula. */
class ActivationMseTest {
    private static final Parallel TWO = new Parallel(2);

    @AfterAll
    static void close() {
        TWO.close();
    }

    @Test
    void fastPathsMatchTheReferences() {
        SplittableRandom rnd = new SplittableRandom(5);
        // sample sizes with and without a vector tail; values straddle 0 and the ReLU6 cap
        for (int sampleSize : new int[] {7, 48, 1000, 16411}) {
            int samples = 3;
            int len = samples * sampleSize;
            float[] y = uniform(rnd, len, -8, 8);
            float[] t = uniform(rnd, len, -1, 7);
            y[0] = 0f;
            y[1] = 6f;
            for (int mode = 0; mode < 3; mode++) {
                boolean act = mode > 0;
                float cap = mode == 2 ? 6f : Float.POSITIVE_INFINITY;
                double direct = 0;
                for (int i = 0; i < len; i++) {
                    double a = act ? Math.min(Math.max(y[i], 0.0), cap) : y[i];
                    direct += (a - t[i]) * (a - t[i]);
                }
                direct /= len;
                String what = sampleSize + " mode " + mode;
                assertEquals(direct, ActivationMse.lossReference(y, t, len, act, cap), 1e-6 * direct, what);
                float[] ref = new float[len];
                ActivationMse.gradientReference(y, t, len, act, cap, 0.75f, ref);
                for (Parallel par : new Parallel[] {Parallel.serial(), TWO}) {
                    float loss = ActivationMse.loss(y, t, samples, sampleSize, act, cap, new double[samples], par);
                    assertEquals(direct, loss, 1e-5 * direct, what + " fast loss");
                    float[] fast = new float[len];
                    ActivationMse.gradient(y, t, len, act, cap, 0.75f, fast, par);
                    assertArrayEquals(ref, fast, 0f, what + " fast gradient");
                }
                if (act) {
                    assertEquals(0f, ref[0], what + ": no gradient at the kink y = 0");
                }
                if (mode == 2) {
                    assertEquals(0f, ref[1], what + ": no gradient at the cap");
                }
            }
        }
    }
}
