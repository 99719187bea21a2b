package io.tinyptq.backend.cpu.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

/** The reproducible lane-wise exp and log against {@link Math#exp} and {@link Math#log} in double precision. */
class VectorMathTest {
    static final int VL = MicroKernel.VL;

    static float[] apply(float[] x, boolean exp) {
        float[] y = new float[x.length];
        for (int i = 0; i < x.length; i += VL) {
            FloatVector v = FloatVector.fromArray(MicroKernel.S, x, i);
            (exp ? VectorMath.exp(v) : VectorMath.log(v)).intoArray(y, i);
        }
        return y;
    }

    static float[] uniform(long seed, int n, double lo, double hi) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n * VL];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextDouble(lo, hi);
        }
        return x;
    }

    @Test
    void expIsWithinFourUlpsOfTheExactValueOverItsRange() {
        float[] x = uniform(1, 4000, -87, 88);
        x[0] = 0f;
        x[1] = 1f;
        x[2] = -1e-8f;
        float[] y = apply(x, true);
        assertEquals(1f, y[0]);
        for (int i = 0; i < x.length; i++) {
            double exact = Math.exp(x[i]);
            assertTrue(
                    Math.abs(y[i] - exact) <= 4 * Math.ulp((float) exact),
                    "exp(" + x[i] + ") = " + y[i] + ", exact " + exact);
        }
    }

    @Test
    void expSaturatesOutsideTheNormalRange() {
        float[] x = new float[VL];
        x[0] = -200f;
        x[1] = 200f;
        float[] y = apply(x, true);
        assertTrue(y[0] > 0 && y[0] < 1e-37f, "exp(-200) = " + y[0]);
        assertTrue(y[1] > 1e38f && Float.isFinite(y[1]), "exp(200) = " + y[1]);
    }

    @Test
    void logIsWithinFourUlpsOfTheExactValueForPositiveNormalInputs() {
        float[] x = uniform(2, 4000, 0, 1);
        float[] wide = uniform(3, 1000, -30, 30);
        for (int i = 0; i < wide.length; i++) {
            x[i] = (float) Math.exp(wide[i]);
        }
        x[0] = 1f;
        x[1] = 2f;
        x[2] = 0.5f;
        float[] y = apply(x, false);
        assertEquals(0f, y[0]);
        for (int i = 0; i < x.length; i++) {
            if (x[i] < Float.MIN_NORMAL) {
                continue;
            }
            double exact = Math.log(x[i]);
            // Near x = 1 the absolute error matters (log -> 0): a few ulps of the terms that cancel.
            double tolerance = Math.max(4 * Math.ulp((float) exact), 2e-7 * Math.abs(x[i] - 1) + 1e-9);
            assertTrue(Math.abs(y[i] - exact) <= tolerance, "log(" + x[i] + ") = " + y[i] + ", exact " + exact);
        }
    }

    /**
     * The vector code equals the same float operations done one lane at a time, bit for bit: it uses only operations
     * IEEE 754 rounds exactly, so neither the JIT nor the interpreter can change a result (unlike lanewise(EXP)).
     */
    @Test
    void everyLaneEqualsTheSameFormulaInScalarFloatArithmetic() {
        float[] x = uniform(4, 500, -20, 20);
        float[] e = apply(x, true);
        float[] positive = uniform(5, 500, 1e-6, 50);
        float[] l = apply(positive, false);
        for (int i = 0; i < x.length; i++) {
            assertEquals(Float.floatToIntBits(scalarExp(x[i])), Float.floatToIntBits(e[i]), "exp(" + x[i] + ")");
            assertEquals(
                    Float.floatToIntBits(scalarLog(positive[i])),
                    Float.floatToIntBits(l[i]),
                    "log(" + positive[i] + ")");
        }
    }

    static float scalarExp(float x) {
        float xc = Math.min(Math.max(x, -87f), 88f);
        float k = (float) Math.rint(xc * 1.44269504088896341f);
        float r = (k * -0.693145751953125f + xc) - k * 1.428606765330187045e-06f;
        float p = r * (1f / 5040f) + 1f / 720f;
        p = p * r + 1f / 120f;
        p = p * r + 1f / 24f;
        p = p * r + 1f / 6f;
        p = p * r + 0.5f;
        p = p * r + 1f;
        p = p * r + 1f;
        return p * Float.intBitsToFloat(((int) k + 127) << 23);
    }

    static float scalarLog(float x) {
        int bits = Float.floatToRawIntBits(x);
        int exponent = ((bits >>> 23) & 0xff) - 127;
        float m = Float.intBitsToFloat(bits & 0x007fffff | 0x3f800000);
        float e = exponent;
        if (m >= 1.41421356237309505f) {
            m = m * 0.5f;
            e = e + 1f;
        }
        float s = (m - 1f) / (m + 1f);
        float s2 = s * s;
        float p = s2 * (1f / 9f) + 1f / 7f;
        p = p * s2 + 1f / 5f;
        p = p * s2 + 1f / 3f;
        p = p * s2 + 1f;
        return p * s * 2f + e * 0.693147180559945309f;
    }
}
