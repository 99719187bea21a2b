package io.tinyptq.backend.cpu.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Lane-wise {@code exp} and {@code log} built from additions, multiplications, one division and bit operations only.
 *
 * <p><b>Why not {@code lanewise(EXP)}.</b> The Vector API leaves transcendental lane operations to the
 * implementation: the JIT-compiled method calls a vector math library while the interpreted one falls back to
 * {@code Math.exp} per lane, and the two differ in the last bit for about 1.5 % of inputs (measured on this machine
 * kind with Temurin 25). AdaRound's sigmoid then depended on when the JIT compiled the kernel, so two runs of the
 * same seed drifted apart over 20,000 steps (a ResNet-8 W3A3 run differed by a point). The operations used here are
 * IEEE-exact in every execution mode, so every run is reproducible from its seed.
 *
 * <p><b>exp.</b> {@code e^x = 2^k e^r} with {@code k = rint(x log2 e)} and {@code r = x - k ln 2} (ln 2 split in a
 * high part exact in float and a low correction), {@code |r| <= ln(2)/2}; {@code e^r} by its Taylor series to
 * {@code r^7/7!} (truncation below {@code 0.35^8/8! = 6e-9}, under half a float ulp), and {@code 2^k} written
 * straight into the exponent bits. Inputs are clamped to {@code [-87, 88]}, where {@code 2^k} stays normal.
 *
 * <p><b>log.</b> {@code x = m 2^e} with {@code m} in {@code [sqrt(1/2), sqrt(2))}; {@code log m = 2 atanh(s)},
 * {@code s = (m - 1)/(m + 1)}, {@code |s| <= 0.172}, by its series to {@code s^9/9} (next term {@code 4e-10}).
 * Defined for positive normal inputs; callers mask out zeros.
 */
public final class VectorMath {
    private static final float LOG2E = 1.44269504088896341f;
    /** ln 2 = LN2_HI + LN2_LO; LN2_HI has trailing zero bits so that {@code k * LN2_HI} is exact for |k| < 256. */
    private static final float LN2_HI = 0.693145751953125f;

    private static final float LN2_LO = 1.428606765330187045e-06f;
    private static final float LN2 = 0.693147180559945309f;
    private static final float SQRT2 = 1.41421356237309505f;

    private VectorMath() {}

    /**
     * The sum of {@code v}'s lanes, added in lane order. The Vector API's {@code reduceLanes(ADD)} leaves the order of
     * a floating-point sum unspecified, and its JIT intrinsic and its Java fallback do use different orders, so a sum
     * through it changes with what the JIT has compiled; this one gives the same bits every time.
     */
    public static float sumLanes(FloatVector v) {
        float sum = 0f;
        for (int i = 0; i < v.length(); i++) {
            sum += v.lane(i);
        }
        return sum;
    }

    /** {@code e^x} lane-wise (relative error within a few float ulps; see the class comment). */
    public static FloatVector exp(FloatVector x) {
        FloatVector xc = x.max(-87f).min(88f);
        FloatVector k = FakeQuant.rint(xc.mul(LOG2E));
        FloatVector r = k.mul(-LN2_HI).add(xc).sub(k.mul(LN2_LO));
        // Horner form of 1 + r + r^2/2! + ... + r^7/7!
        FloatVector p = r.mul(1f / 5040f).add(1f / 720f);
        p = p.mul(r).add(1f / 120f);
        p = p.mul(r).add(1f / 24f);
        p = p.mul(r).add(1f / 6f);
        p = p.mul(r).add(0.5f);
        p = p.mul(r).add(1f);
        p = p.mul(r).add(1f);
        IntVector bits =
                ((IntVector) k.convert(VectorOperators.F2I, 0)).add(127).lanewise(VectorOperators.LSHL, 23);
        return p.mul(bits.reinterpretAsFloats());
    }

    /** Natural logarithm lane-wise, for positive normal {@code x} (see the class comment). */
    public static FloatVector log(FloatVector x) {
        IntVector bits = x.reinterpretAsInts();
        IntVector exponent = bits.lanewise(VectorOperators.LSHR, 23).and(0xff).sub(127);
        FloatVector m = bits.and(0x007fffff).or(0x3f800000).reinterpretAsFloats(); // in [1, 2)
        var high = m.compare(VectorOperators.GE, SQRT2);
        m = m.blend(m.mul(0.5f), high);
        FloatVector e = ((FloatVector) exponent.convert(VectorOperators.I2F, 0))
                .blend(((FloatVector) exponent.convert(VectorOperators.I2F, 0)).add(1f), high);
        FloatVector s = m.sub(1f).div(m.add(1f));
        FloatVector s2 = s.mul(s);
        // 2 (s + s^3/3 + s^5/5 + s^7/7 + s^9/9)
        FloatVector p = s2.mul(1f / 9f).add(1f / 7f);
        p = p.mul(s2).add(1f / 5f);
        p = p.mul(s2).add(1f / 3f);
        p = p.mul(s2).add(1f);
        return p.mul(s).mul(2f).add(e.mul(LN2));
    }
}
