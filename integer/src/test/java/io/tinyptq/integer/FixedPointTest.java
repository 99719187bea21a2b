package io.tinyptq.integer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyptq.api.integer.FixedPoint;
import io.tinyptq.api.integer.KernelParams;
import io.tinyptq.api.model.Activation;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The fixed-point helpers against their defining formulas, computed independently with exact arithmetic
 * (BigInteger, BigDecimal) or with doubles where those are exact.
 */
class FixedPointTest {
    private static final BigInteger TWO_31 = BigInteger.ONE.shiftLeft(31);

    /** {@code x} rounded to an integer, ties away from zero (BigDecimal's HALF_UP). */
    private static BigInteger roundHalfAway(BigDecimal x) {
        return x.setScale(0, RoundingMode.HALF_UP).toBigIntegerExact();
    }

    @Test
    void roundIsCsRound() {
        assertEquals(1.0, FixedPoint.round(0.5));
        assertEquals(-1.0, FixedPoint.round(-0.5));
        assertEquals(3.0, FixedPoint.round(2.5));
        assertEquals(-3.0, FixedPoint.round(-2.5));
        assertEquals(0.0, FixedPoint.round(0.49999999999999994)); // floor(x + 0.5) would give 1
        assertEquals(2.0, FixedPoint.round(1.5));
        assertEquals(-0.0, FixedPoint.round(-0.2));
        assertEquals(4503599627370497.0, FixedPoint.round(4503599627370497.0));
    }

    @Test
    void quantizeMultiplierEdgeCases() {
        assertEquals(new FixedPoint.Multiplier(0, 0), FixedPoint.quantizeMultiplier(0.0));
        // 1 = 0.5 * 2^1 -> (2^30, 1)
        assertEquals(new FixedPoint.Multiplier(1 << 30, 1), FixedPoint.quantizeMultiplier(1.0));
        // 3 = 0.75 * 2^2 (multiplier >= 1: positive shift)
        assertEquals(new FixedPoint.Multiplier(1610612736, 2), FixedPoint.quantizeMultiplier(3.0));
        // 0.75 = 0.75 * 2^0
        assertEquals(new FixedPoint.Multiplier(1610612736, 0), FixedPoint.quantizeMultiplier(0.75));
        // 1 - 2^-40: q * 2^31 = 2^31 - 2^-9 rounds to 2^31 -> halved, shift + 1
        assertEquals(new FixedPoint.Multiplier(1 << 30, 1), FixedPoint.quantizeMultiplier(1 - 0x1p-40));
        // 2^-32 = 0.5 * 2^-31: the smallest shift kept
        assertEquals(new FixedPoint.Multiplier(1 << 30, -31), FixedPoint.quantizeMultiplier(0x1p-32));
        // 2^-33 = 0.5 * 2^-32: shift < -31 -> (0, 0)
        assertEquals(new FixedPoint.Multiplier(0, 0), FixedPoint.quantizeMultiplier(0x1p-33));
        assertEquals(new FixedPoint.Multiplier(0, 0), FixedPoint.quantizeMultiplier(0x1p-40));
        // a tie in q * 2^31: q = 0.5 + 2^-32 -> 2^30 + 0.5 -> rounds away from zero to 2^30 + 1
        assertEquals(new FixedPoint.Multiplier((1 << 30) + 1, 0), FixedPoint.quantizeMultiplier(0.5 + 0x1p-32));
    }

    @Test
    void quantizeMultiplierMatchesItsDefinition() {
        Random rnd = new Random(1);
        for (int t = 0; t < 20000; t++) {
            double d = Math.scalb(0.5 + rnd.nextDouble() * 0.5, rnd.nextInt(60) - 40);
            FixedPoint.Multiplier m = FixedPoint.quantizeMultiplier(d);
            int e = Math.getExponent(d) + 1; // frexp exponent
            // q = round(d / 2^e * 2^31), ties away from zero, with one exact scaling
            BigInteger q2 = roundHalfAway(new BigDecimal(d).multiply(new BigDecimal(Math.scalb(1.0, 31 - e))));
            int shift = e;
            if (q2.equals(TWO_31)) {
                q2 = q2.shiftRight(1);
                shift++;
            }
            if (shift < -31) {
                assertEquals(new FixedPoint.Multiplier(0, 0), m, "d = " + d);
            } else {
                assertEquals(new FixedPoint.Multiplier(q2.intValueExact(), shift), m, "d = " + d);
                assertTrue(m.multiplier() >= (1 << 30), "normalized significand");
                // |m * 2^(shift-31) - d| <= 2^(shift-32): half a unit of the significand
                BigDecimal err =
                        new BigDecimal(m.value()).subtract(new BigDecimal(d)).abs();
                assertTrue(err.compareTo(new BigDecimal(Math.scalb(1.0, shift - 32))) <= 0, "d = " + d);
            }
        }
    }

    /** The defining formula: {@code floor((a*b + 2^30) / 2^31)}, i.e. a*b/2^31 rounded half up, saturated. */
    private static int srdhmReference(int a, int b) {
        BigInteger ab = BigInteger.valueOf(a).multiply(BigInteger.valueOf(b));
        BigInteger[] qr = ab.add(BigInteger.ONE.shiftLeft(30)).divideAndRemainder(TWO_31);
        BigInteger floor = qr[1].signum() < 0 ? qr[0].subtract(BigInteger.ONE) : qr[0];
        return floor.min(BigInteger.valueOf(Integer.MAX_VALUE)).intValueExact();
    }

    @Test
    void saturatingRoundingDoublingHighMul() {
        assertEquals(
                Integer.MAX_VALUE, FixedPoint.saturatingRoundingDoublingHighMul(Integer.MIN_VALUE, Integer.MIN_VALUE));
        assertEquals(
                -Integer.MAX_VALUE, FixedPoint.saturatingRoundingDoublingHighMul(Integer.MIN_VALUE, Integer.MAX_VALUE));
        // ties: 3 * 2^30 / 2^31 = 1.5 -> 2; -3 * 2^30 / 2^31 = -1.5 -> -1 (half up, not away from zero)
        assertEquals(2, FixedPoint.saturatingRoundingDoublingHighMul(3, 1 << 30));
        assertEquals(-1, FixedPoint.saturatingRoundingDoublingHighMul(-3, 1 << 30));
        assertEquals(0, FixedPoint.saturatingRoundingDoublingHighMul(-1, 1 << 30));
        assertEquals(1, FixedPoint.saturatingRoundingDoublingHighMul(1, 1 << 30));
        int[] edges = {
            0,
            1,
            -1,
            2,
            -2,
            3,
            -3,
            1 << 30,
            -(1 << 30),
            Integer.MAX_VALUE,
            Integer.MIN_VALUE,
            Integer.MAX_VALUE - 1,
            Integer.MIN_VALUE + 1,
            46341,
            -46341,
            1 << 15,
            12345,
            -98765
        };
        for (int a : edges) {
            for (int b : edges) {
                assertEquals(srdhmReference(a, b), FixedPoint.saturatingRoundingDoublingHighMul(a, b), a + " * " + b);
            }
        }
        Random rnd = new Random(2);
        for (int t = 0; t < 100000; t++) {
            int a = rnd.nextInt() >> rnd.nextInt(31);
            int b = rnd.nextInt() >> rnd.nextInt(31);
            assertEquals(srdhmReference(a, b), FixedPoint.saturatingRoundingDoublingHighMul(a, b), a + " * " + b);
        }
    }

    @Test
    void roundingDivideByPOT() {
        // ties away from zero
        assertEquals(2, FixedPoint.roundingDivideByPOT(3, 1));
        assertEquals(-2, FixedPoint.roundingDivideByPOT(-3, 1));
        assertEquals(1, FixedPoint.roundingDivideByPOT(1, 1));
        assertEquals(-1, FixedPoint.roundingDivideByPOT(-1, 1));
        assertEquals(-1, FixedPoint.roundingDivideByPOT(-2, 2));
        assertEquals(0, FixedPoint.roundingDivideByPOT(-1, 2));
        assertEquals(-1, FixedPoint.roundingDivideByPOT(Integer.MIN_VALUE, 31));
        assertEquals(1, FixedPoint.roundingDivideByPOT(Integer.MAX_VALUE, 31));
        assertEquals(Integer.MIN_VALUE, FixedPoint.roundingDivideByPOT(Integer.MIN_VALUE, 0));
        Random rnd = new Random(3);
        for (int t = 0; t < 100000; t++) {
            int x = rnd.nextInt() >> rnd.nextInt(31);
            int e = rnd.nextInt(32);
            int want = roundHalfAway(new BigDecimal(x).divide(new BigDecimal(BigInteger.ONE.shiftLeft(e))))
                    .intValueExact();
            assertEquals(want, FixedPoint.roundingDivideByPOT(x, e), x + " / 2^" + e);
        }
    }

    /** MultiplyByQuantizedMultiplier's definition: shift left, high multiply, rounding right shift, exactly. */
    private static int mbqmReference(int x, int m, int shift) {
        int left = Math.max(shift, 0);
        int right = Math.max(-shift, 0);
        int shifted = (int) ((long) x << left); // the 32-bit product the C++ computes
        int high = srdhmReference(shifted, m);
        return roundHalfAway(new BigDecimal(high).divide(new BigDecimal(BigInteger.ONE.shiftLeft(right))))
                .intValueExact();
    }

    @Test
    void multiplyByQuantizedMultiplier() {
        // 0.25 = (2^30, -1): -2 -> high multiply -1 -> /2 = -0.5 -> -1; -6 -> -3 -> -1.5 -> -2 (two roundings)
        assertEquals(-1, FixedPoint.multiplyByQuantizedMultiplier(-2, 1 << 30, -1));
        assertEquals(-2, FixedPoint.multiplyByQuantizedMultiplier(-6, 1 << 30, -1));
        // multiplier >= 1: 3.0 = (0.75 * 2^31, 2): 7 * 4 = 28, * 0.75 = 21
        assertEquals(21, FixedPoint.multiplyByQuantizedMultiplier(7, 1610612736, 2));
        // 1.0 = (2^30, 1) is the identity
        assertEquals(-131, FixedPoint.multiplyByQuantizedMultiplier(-131, 1 << 30, 1));
        // shift (0, 0) from a multiplier below 2^-32 gives 0
        assertEquals(0, FixedPoint.multiplyByQuantizedMultiplier(123456, 0, 0));
        Random rnd = new Random(4);
        for (int t = 0; t < 100000; t++) {
            double real = Math.scalb(0.5 + rnd.nextDouble() * 0.5, rnd.nextInt(40) - 30);
            FixedPoint.Multiplier m = FixedPoint.quantizeMultiplier(real);
            int x = rnd.nextInt(1 << 20) - (1 << 19);
            int got = FixedPoint.multiplyByQuantizedMultiplier(x, m.multiplier(), m.shift());
            assertEquals(mbqmReference(x, m.multiplier(), m.shift()), got);
            if (Math.abs((double) x * real) < (1L << 30) && m.shift() <= 0) {
                // within one of the exact product (two roundings of at most 1/2 each, the first scaled down)
                assertTrue(Math.abs(got - x * m.value()) <= 1.0, x + " * " + real);
            }
        }
    }

    /**
     * Single rounding is the exact product {@code x * m * 2^(shift - 31)} rounded half up (BigDecimal), over the whole
     * shift range; double rounding departs from it exactly where the doubling high multiply's rounding crosses a
     * half, e.g. 5 * 0.25: the high multiply gives round(2.5) = 3, then 3 / 2 rounds to 2.
     */
    @Test
    void singleRoundingIsTheExactProductRoundedOnce() {
        // 0.25 = (2^30, -1): 5 * 0.25 = 1.25 -> 1 once; twice: round(2.5) = 3, round(1.5) = 2
        assertEquals(1, FixedPoint.multiplyByQuantizedMultiplierSingleRounding(5, 1 << 30, -1));
        assertEquals(2, FixedPoint.multiplyByQuantizedMultiplier(5, 1 << 30, -1));
        // ties go up (toward +inf), not away from zero: -2 * 0.25 = -0.5 -> 0; 2 * 0.25 = 0.5 -> 1
        assertEquals(0, FixedPoint.multiplyByQuantizedMultiplierSingleRounding(-2, 1 << 30, -1));
        assertEquals(1, FixedPoint.multiplyByQuantizedMultiplierSingleRounding(2, 1 << 30, -1));
        // the extremes of x and of the shift range
        assertEquals(
                Integer.MIN_VALUE,
                FixedPoint.multiplyByQuantizedMultiplierSingleRounding(Integer.MIN_VALUE, 1 << 30, 1));
        // -2^31 * 2^30 * 2^-62 = -0.5, a tie: up to 0
        assertEquals(0, FixedPoint.multiplyByQuantizedMultiplierSingleRounding(Integer.MIN_VALUE, 1 << 30, -31));
        assertEquals(0, FixedPoint.multiplyByQuantizedMultiplierSingleRounding(123456, 0, 0));
        org.junit.jupiter.api.Assertions.assertThrows(
                IllegalArgumentException.class,
                () -> FixedPoint.multiplyByQuantizedMultiplierSingleRounding(1, 1 << 30, 31));
        Random rnd = new Random(5);
        int differ = 0;
        for (int t = 0; t < 100000; t++) {
            int shift = rnd.nextInt(52) - 31;
            int m = (1 << 30) + rnd.nextInt(1 << 30);
            // a product that fits an int32: |x| < 2^(30 - shift) when the multiplier exceeds 1
            int x = shift > 0 ? rnd.nextInt(1 << (30 - shift)) - (1 << (29 - shift)) : rnd.nextInt();
            BigDecimal exact = new BigDecimal(BigInteger.valueOf(x).multiply(BigInteger.valueOf(m)))
                    .multiply(new BigDecimal(2).pow(shift + 31).divide(new BigDecimal(2).pow(62)));
            // half up: floor(exact + 1/2)
            int want = exact.add(new BigDecimal("0.5"))
                    .setScale(0, RoundingMode.FLOOR)
                    .intValueExact();
            assertEquals(
                    want,
                    FixedPoint.multiplyByQuantizedMultiplierSingleRounding(x, m, shift),
                    x + " * " + m + " * 2^(" + shift + " - 31)");
            if (shift <= 0 && want != FixedPoint.multiplyByQuantizedMultiplier(x, m, shift)) {
                differ++;
            }
        }
        assertTrue(differ > 0, "double rounding differs from the exact product somewhere");
        for (FixedPoint.Rounding r : FixedPoint.Rounding.values()) {
            assertEquals(r == FixedPoint.Rounding.SINGLE ? 1 : 2, r.multiply(5, 1 << 30, -1), r.name());
            assertEquals(r.multiply(5, 1 << 30, -1), r.multiplySmallerThanOneExp(5, 1 << 30, -1), r.name());
            assertEquals(125, r.multiplyGreaterThanOne(10, 1677721600, 4), r.name());
        }
    }

    @Test
    void smallerThanOneAndGreaterThanOneVariants() {
        FixedPoint.Multiplier m = FixedPoint.quantizeMultiplierSmallerThanOneExp(0.3);
        assertTrue(m.shift() <= 0);
        assertEquals(
                FixedPoint.multiplyByQuantizedMultiplier(1000, m.multiplier(), m.shift()),
                FixedPoint.multiplyByQuantizedMultiplierSmallerThanOneExp(1000, m.multiplier(), m.shift()));
        assertEquals(300, FixedPoint.multiplyByQuantizedMultiplierSmallerThanOneExp(1000, m.multiplier(), m.shift()));
        FixedPoint.Multiplier g = FixedPoint.quantizeMultiplierGreaterThanOne(12.5);
        assertEquals(new FixedPoint.Multiplier(1677721600, 4), g); // 12.5 = 0.78125 * 2^4
        assertEquals(125, FixedPoint.multiplyByQuantizedMultiplierGreaterThanOne(10, g.multiplier(), g.shift()));
    }

    @Test
    void activationRanges() {
        // scale 0.05, zero point -10: RELU from the zero point, RELU6 to -10 + round(6 / 0.05) = 110
        assertArrayEquals(new int[] {-128, 127}, FixedPoint.activationRange(Activation.NONE, 0.05f, -10, -128, 127));
        assertArrayEquals(new int[] {-10, 127}, FixedPoint.activationRange(Activation.RELU, 0.05f, -10, -128, 127));
        assertArrayEquals(new int[] {-10, 110}, FixedPoint.activationRange(Activation.RELU6, 0.05f, -10, -128, 127));
        // 6 / 0.02 = 300 steps above -128 exceeds the type: clamped to 127
        assertArrayEquals(new int[] {-128, 127}, FixedPoint.activationRange(Activation.RELU6, 0.02f, -128, -128, 127));
        // a zero point below the type minimum cannot lower the clamp
        assertArrayEquals(new int[] {-8, 7}, FixedPoint.activationRange(Activation.RELU, 0.5f, -8, -8, 7));
    }

    @Test
    void gemmlowpConstantsAreTheirDefiningValues() {
        for (int i = 0; i < 7; i++) {
            double want = Math.exp(-Math.scalb(1.0, i - 2)) * 0x1p31;
            assertEquals(Math.round(want), FixedPoint.expBarrelMultiplier(i), "exp(-2^" + (i - 2) + ")");
        }
        assertEquals(Math.round(Math.exp(-0.125) * 0x1p31), 1895147668L);
        assertEquals(Math.round(0x1p31 / 3), 715827883L);
        assertEquals(Math.round(48.0 / 17 * 0x1p29), 1515870810L);
        assertEquals(Math.round(-32.0 / 17 * 0x1p29), -1010580540L);
    }

    @Test
    void fixedPointExpAndReciprocalApproximateTheirFunctions() {
        // exp on Q5.26 inputs in [-32, 0]: the result in Q0.31 within 2^-20 of exp(x)
        for (long r = 0; r >= -(31L << 26); r -= 102_953) {
            int raw = (int) r;
            double x = Math.scalb((double) raw, -26);
            double got = Math.scalb((double) FixedPoint.expOnNegativeValues(raw, 5), -31);
            assertEquals(Math.exp(x), got, 0x1p-20, "exp(" + x + ")");
        }
        assertEquals(Integer.MAX_VALUE, FixedPoint.expOnNegativeValues(0, 5));
        // 1 / (1 + x) for x in [0, 1): Q0.31 result within 2^-26
        for (long raw = 0; raw < (1L << 31); raw += 9_999_991L) {
            double x = Math.scalb((double) raw, -31);
            double got = Math.scalb((double) FixedPoint.oneOverOnePlusXForXIn01((int) raw), -31);
            assertEquals(1 / (1 + x), got, 0x1p-26, "1/(1+" + x + ")");
        }
        // GetReciprocal of 2.0 in Q12.19 (2^20): one bit over unit, significand ~1 -> 1/2
        int[] bits = new int[1];
        int r = FixedPoint.reciprocal(1 << 20, 12, bits);
        assertEquals(1, bits[0]);
        assertEquals(1.0, Math.scalb((double) r, -31), 1e-8);
        // 3.0 = 3 * 2^19: 1/3 = (2/3) / 2^1
        r = FixedPoint.reciprocal(3 << 19, 12, bits);
        assertEquals(1, bits[0]);
        assertEquals(2.0 / 3, Math.scalb((double) r, -31), 1e-8);
    }

    @Test
    void softmaxScaling() {
        // input scale 1/16, 5 integer bits: 2^-4 * 2^26 = 2^22 = 0.5 * 2^23 -> (2^30, 23);
        // radius = 31 * 2^26 / 2^23 = 248
        FixedPoint.Multiplier m = FixedPoint.preprocessSoftmaxScaling(1.0, 1.0 / 16, 5);
        assertEquals(new FixedPoint.Multiplier(1 << 30, 23), m);
        assertEquals(248, FixedPoint.calculateInputRadius(5, 23));
        KernelParams.Softmax p = KernelParams.Softmax.of(1.0, 1f / 16);
        assertEquals(-248, p.diffMin());
        // a large scale is capped at 2^31 - 1
        FixedPoint.Multiplier cap = FixedPoint.preprocessSoftmaxScaling(1.0, 1e6, 5);
        assertEquals(new FixedPoint.Multiplier(Integer.MAX_VALUE, 31), cap);
    }
}
