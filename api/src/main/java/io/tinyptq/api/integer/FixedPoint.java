package io.tinyptq.api.integer;

import io.tinyptq.api.model.Activation;

/**
 * TFLite's fixed-point arithmetic (tensorflow/lite/kernels/internal/common.h, quantization_util.cc and gemmlowp's
 * fixedpoint.h), in the default double-rounding variant: a real multiplier is a signed 32-bit significand in Q0.31
 * times a power of two, applied with a saturating rounding doubling high multiply and a rounding right shift.
 */
public final class FixedPoint {
    private FixedPoint() {}

    /** A real multiplier as TFLite stores it: {@code multiplier * 2^(shift - 31)}. */
    public record Multiplier(int multiplier, int shift) {
        /** The real value it stands for (exact in double). */
        public double value() {
            return Math.scalb((double) multiplier, shift - 31);
        }
    }

    /** Rounds to the nearest integer, ties away from zero, exactly as C's {@code round}/{@code std::round}. */
    public static double round(double x) {
        double a = Math.abs(x);
        if (!(a < 0x1p52)) {
            return x; // already an integer, or NaN / infinite
        }
        double f = Math.floor(a);
        if (a - f >= 0.5) {
            f += 1;
        }
        return Math.copySign(f, x);
    }

    /**
     * TFLite's {@code QuantizeMultiplier}: {@code frexp} splits {@code real} into {@code q * 2^shift} with
     * {@code q} in [0.5, 1); {@code q * 2^31} is rounded (ties away from zero); a result of exactly {@code 2^31}
     * is halved and the shift raised by one; a shift below -31 gives multiplier and shift 0. Zero gives (0, 0).
     */
    public static Multiplier quantizeMultiplier(double real) {
        if (real == 0.0) {
            return new Multiplier(0, 0);
        }
        if (!Double.isFinite(real)) {
            throw new IllegalArgumentException("multiplier must be finite, got " + real);
        }
        int shift = Math.getExponent(real) + 1;
        double q = Math.scalb(real, -shift);
        if (Math.abs(q) < 0.5) { // subnormal input: normalize as frexp does
            int extra = Math.getExponent(q) + 1;
            q = Math.scalb(q, -extra);
            shift += extra;
        }
        long qFixed = (long) round(q * (double) (1L << 31));
        if (qFixed > (1L << 31)) {
            throw new IllegalStateException("QuantizeMultiplier: " + real + " gave " + qFixed);
        }
        if (qFixed == (1L << 31)) {
            qFixed /= 2;
            shift++;
        }
        if (shift < -31) {
            shift = 0;
            qFixed = 0;
        }
        return new Multiplier((int) qFixed, shift);
    }

    /** TFLite's {@code QuantizeMultiplierSmallerThanOneExp}: {@link #quantizeMultiplier} of a multiplier below 1. */
    public static Multiplier quantizeMultiplierSmallerThanOneExp(double real) {
        if (!(real < 1.0) || real <= 0.0) {
            throw new IllegalArgumentException("multiplier must be in (0, 1), got " + real);
        }
        Multiplier m = quantizeMultiplier(real);
        if (m.shift() > 0) {
            throw new IllegalStateException("multiplier " + real + " gave a left shift " + m.shift());
        }
        return m;
    }

    /** TFLite's {@code QuantizeMultiplierGreaterThanOne}: the shift is a left shift, >= 0. */
    public static Multiplier quantizeMultiplierGreaterThanOne(double real) {
        if (!(real > 1.0)) {
            throw new IllegalArgumentException("multiplier must be > 1, got " + real);
        }
        Multiplier m = quantizeMultiplier(real);
        if (m.shift() < 0) {
            throw new IllegalStateException("multiplier " + real + " gave a right shift " + m.shift());
        }
        return m;
    }

    /**
     * gemmlowp's {@code SaturatingRoundingDoublingHighMul}: {@code (a * b + nudge) / 2^31} truncated, the nudge
     * {@code 2^30} for a non-negative product and {@code 1 - 2^30} otherwise (so the real {@code a*b/2^31} is
     * rounded half up); {@code INT32_MIN * INT32_MIN}, the one overflow, saturates to {@code INT32_MAX}.
     */
    public static int saturatingRoundingDoublingHighMul(int a, int b) {
        if (a == b && a == Integer.MIN_VALUE) {
            return Integer.MAX_VALUE;
        }
        long ab = (long) a * (long) b;
        long nudge = ab >= 0 ? (1L << 30) : (1L - (1L << 30));
        return (int) ((ab + nudge) / (1L << 31));
    }

    /** gemmlowp's {@code RoundingDivideByPOT}: {@code x / 2^exponent} rounded to nearest, ties away from zero. */
    public static int roundingDivideByPOT(int x, int exponent) {
        if (exponent < 0 || exponent > 31) {
            throw new IllegalArgumentException("exponent must be in [0, 31], got " + exponent);
        }
        int mask = (int) ((1L << exponent) - 1);
        int remainder = x & mask;
        int threshold = (mask >> 1) + (x < 0 ? 1 : 0);
        return (x >> exponent) + (remainder > threshold ? 1 : 0);
    }

    /**
     * TFLite's {@code MultiplyByQuantizedMultiplier}: a positive shift multiplies {@code x} by {@code 2^shift}
     * first (32-bit, wrapping as the C++ does on the targets TFLite runs on), then the doubling high multiply, then
     * a rounding right shift by {@code -shift} when the shift is negative.
     */
    public static int multiplyByQuantizedMultiplier(int x, int multiplier, int shift) {
        int leftShift = shift > 0 ? shift : 0;
        int rightShift = shift > 0 ? 0 : -shift;
        return roundingDivideByPOT(saturatingRoundingDoublingHighMul(x * (1 << leftShift), multiplier), rightShift);
    }

    /**
     * TFLite's {@code MultiplyByQuantizedMultiplier} built with {@code TFLITE_SINGLE_ROUNDING} (CMSIS-NN's
     * {@code CMSIS_NN_USE_SINGLE_ROUNDING} likewise): {@code x * multiplier * 2^(shift - 31)} rounded once, half up,
     * as {@code (x * multiplier + 2^(30 - shift)) >> (31 - shift)} in 64 bits. The default build rounds twice (the
     * high multiply rounds to {@code 2^-31} of the product, then the shift rounds again), which is 1 off whenever the
     * first rounding carries the value across a half: for a right shift {@code r} about one value in {@code 2^r}, so
     * one in a few dozen when 4-bit activations make the multipliers large.
     *
     * @param shift in [-31, 30], as {@link #quantizeMultiplier} gives it
     */
    public static int multiplyByQuantizedMultiplierSingleRounding(int x, int multiplier, int shift) {
        if (shift < -31 || shift > 30) {
            throw new IllegalArgumentException("shift must be in [-31, 30], got " + shift);
        }
        int total = 31 - shift;
        return (int) (((long) x * multiplier + (1L << (total - 1))) >> total);
    }

    /**
     * How TFLite's fixed-point requantization rounds: {@link #DOUBLE} as its default build and TFLite Micro, {@link
     * #SINGLE} as a build with {@code TFLITE_SINGLE_ROUNDING}, where the {@code SmallerThanOneExp} and {@code
     * GreaterThanOne} variants are {@code MultiplyByQuantizedMultiplier} itself.
     */
    public enum Rounding {
        DOUBLE,
        SINGLE;

        /** {@code MultiplyByQuantizedMultiplier}. */
        public int multiply(int x, int multiplier, int shift) {
            return this == SINGLE
                    ? multiplyByQuantizedMultiplierSingleRounding(x, multiplier, shift)
                    : multiplyByQuantizedMultiplier(x, multiplier, shift);
        }

        /** {@code MultiplyByQuantizedMultiplierSmallerThanOneExp}, {@code shift <= 0}. */
        public int multiplySmallerThanOneExp(int x, int multiplier, int shift) {
            return this == SINGLE
                    ? multiplyByQuantizedMultiplierSingleRounding(x, multiplier, shift)
                    : multiplyByQuantizedMultiplierSmallerThanOneExp(x, multiplier, shift);
        }

        /** {@code MultiplyByQuantizedMultiplierGreaterThanOne}, {@code leftShift >= 0}. */
        public int multiplyGreaterThanOne(int x, int multiplier, int leftShift) {
            return this == SINGLE
                    ? multiplyByQuantizedMultiplierSingleRounding(x, multiplier, leftShift)
                    : multiplyByQuantizedMultiplierGreaterThanOne(x, multiplier, leftShift);
        }
    }

    /** TFLite's {@code MultiplyByQuantizedMultiplierSmallerThanOneExp}: the high multiply, then a right shift. */
    public static int multiplyByQuantizedMultiplierSmallerThanOneExp(int x, int multiplier, int leftShift) {
        return roundingDivideByPOT(saturatingRoundingDoublingHighMul(x, multiplier), -leftShift);
    }

    /** TFLite's {@code MultiplyByQuantizedMultiplierGreaterThanOne}: a left shift, then the high multiply. */
    public static int multiplyByQuantizedMultiplierGreaterThanOne(int x, int multiplier, int leftShift) {
        return saturatingRoundingDoublingHighMul(x * (1 << leftShift), multiplier);
    }

    /** {@code zeroPoint + round(f / scale)}, the division in float as TFLite's activation-range helper does it. */
    public static int quantizeFloat(float f, float scale, int zeroPoint) {
        return zeroPoint + (int) round(f / scale);
    }

    /**
     * TFLite's {@code CalculateActivationRangeQuantized}: the clamp [min, max] of a fused activation on an output
     * of the given scale and zero point, within the type range [qmin, qmax].
     */
    public static int[] activationRange(Activation activation, float scale, int zeroPoint, int qmin, int qmax) {
        return switch (activation) {
            case NONE -> new int[] {qmin, qmax};
            case RELU -> new int[] {Math.max(qmin, quantizeFloat(0f, scale, zeroPoint)), qmax};
            case RELU6 ->
                new int[] {
                    Math.max(qmin, quantizeFloat(0f, scale, zeroPoint)),
                    Math.min(qmax, quantizeFloat(6f, scale, zeroPoint))
                };
        };
    }

    // ---- gemmlowp fixed-point functions used by int8 softmax ----

    /** gemmlowp's {@code SaturatingRoundingMultiplyByPOT<exponent>}: a saturating left shift or a rounding right one. */
    public static int saturatingRoundingMultiplyByPOT(int x, int exponent) {
        if (exponent == 0) {
            return x;
        }
        if (exponent < 0) {
            return roundingDivideByPOT(x, -exponent);
        }
        int threshold = (1 << (31 - exponent)) - 1;
        if (x > threshold) {
            return Integer.MAX_VALUE;
        }
        if (x < -threshold) {
            return Integer.MIN_VALUE;
        }
        return x << exponent;
    }

    /** gemmlowp's {@code Rescale}: a raw value with {@code srcIntegerBits} integer bits to {@code dstIntegerBits}. */
    public static int rescale(int raw, int srcIntegerBits, int dstIntegerBits) {
        return saturatingRoundingMultiplyByPOT(raw, srcIntegerBits - dstIntegerBits);
    }

    /** gemmlowp's {@code RoundingHalfSum}: {@code (a + b) / 2} rounded away from zero, computed in 64 bits. */
    public static int roundingHalfSum(int a, int b) {
        long sum = (long) a + (long) b;
        long sign = sum >= 0 ? 1 : -1;
        return (int) ((sum + sign) / 2);
    }

    /**
     * gemmlowp's {@code exp_on_interval_between_negative_one_quarter_and_0_excl}: Q0.31 in, Q0.31 out; a
     * fourth-order Taylor expansion of exp around -1/8.
     */
    public static int expOnIntervalBetweenNegativeOneQuarterAnd0Excl(int a) {
        final int constantTerm = 1895147668; // exp(-1/8) in Q0.31
        final int constantOneOverThree = 715827883; // 1/3 in Q0.31
        int x = a + (1 << 28); // a + 1/8
        int x2 = saturatingRoundingDoublingHighMul(x, x);
        int x3 = saturatingRoundingDoublingHighMul(x2, x);
        int x4 = saturatingRoundingDoublingHighMul(x2, x2);
        int x4Over4 = saturatingRoundingMultiplyByPOT(x4, -2);
        int poly = saturatingRoundingMultiplyByPOT(
                saturatingRoundingDoublingHighMul(x4Over4 + x3, constantOneOverThree) + x2, -1);
        return constantTerm + saturatingRoundingDoublingHighMul(constantTerm, x + poly);
    }

    /** The barrel shifter's factors exp(-2^k) in Q0.31, k = -2 .. 4, as gemmlowp writes them. */
    private static final int[] EXP_BARREL = {1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242};

    /**
     * gemmlowp's {@code exp_on_negative_values}: {@code a} a non-positive fixed-point value with
     * {@code integerBits} integer bits, the result exp(a) in Q0.31.
     */
    /** {@code exp(-2^(i-2))} in Q0.31, the barrel shifter's multipliers in {@link #expOnNegativeValues}. */
    public static int expBarrelMultiplier(int i) {
        return EXP_BARREL[i];
    }

    public static int expOnNegativeValues(int a, int integerBits) {
        int fractionalBits = 31 - integerBits;
        int oneQuarter = 1 << (fractionalBits - 2);
        int mask = oneQuarter - 1;
        int aModQuarterMinusOneQuarter = (a & mask) - oneQuarter;
        int result =
                expOnIntervalBetweenNegativeOneQuarterAnd0Excl(rescale(aModQuarterMinusOneQuarter, integerBits, 0));
        int remainder = aModQuarterMinusOneQuarter - a;
        for (int i = 0; i < EXP_BARREL.length; i++) {
            int exponent = i - 2;
            if (integerBits > exponent) {
                int shiftAmount = fractionalBits + exponent;
                if ((remainder & (1 << shiftAmount)) != 0) {
                    result = saturatingRoundingDoublingHighMul(result, EXP_BARREL[i]);
                }
            }
        }
        if (integerBits > 5) {
            int clamp = -(1 << (36 - integerBits)); // -32 in this format
            if (a < clamp) {
                result = 0;
            }
        }
        return a == 0 ? Integer.MAX_VALUE : result;
    }

    /** gemmlowp's {@code one_over_one_plus_x_for_x_in_0_1}: Q0.31 in and out, three Newton-Raphson steps. */
    public static int oneOverOnePlusXForXIn01(int a) {
        int halfDenominator = roundingHalfSum(a, Integer.MAX_VALUE); // Q0.31
        final int constant48Over17 = 1515870810; // Q2.29
        final int constantNeg32Over17 = -1010580540; // Q2.29
        final int oneQ2 = 1 << 29;
        int x = constant48Over17 + saturatingRoundingDoublingHighMul(halfDenominator, constantNeg32Over17);
        for (int i = 0; i < 3; i++) {
            int halfDenominatorTimesX = saturatingRoundingDoublingHighMul(halfDenominator, x); // Q2.29
            int oneMinus = oneQ2 - halfDenominatorTimesX; // Q2.29
            x = x + rescale(saturatingRoundingDoublingHighMul(x, oneMinus), 4, 2);
        }
        // ExactMulByPot<-1>: the same raw value read as Q1.30, then rescaled to Q0.31
        return rescale(x, 1, 0);
    }

    /**
     * TFLite's {@code GetReciprocal}: the reciprocal of a positive fixed-point {@code x} with
     * {@code xIntegerBits} integer bits, as a Q0.31 significand and {@code numBitsOverUnit[0]}, the power of two
     * it is to be divided by.
     */
    public static int reciprocal(int x, int xIntegerBits, int[] numBitsOverUnit) {
        int headroomPlusOne = Integer.numberOfLeadingZeros(x);
        numBitsOverUnit[0] = xIntegerBits - headroomPlusOne;
        int shiftedSumMinusOne = (x << headroomPlusOne) - Integer.MIN_VALUE; // wraps as uint32 arithmetic
        return oneOverOnePlusXForXIn01(shiftedSumMinusOne);
    }

    /**
     * TFLite's {@code PreprocessSoftmaxScaling}: the multiplier and left shift that bring an input difference to
     * a fixed-point value with {@code inputIntegerBits} integer bits, {@code beta * inputScale * 2^(31 - bits)}
     * capped at {@code 2^31 - 1}.
     */
    public static Multiplier preprocessSoftmaxScaling(double beta, double inputScale, int inputIntegerBits) {
        double real = Math.min(beta * inputScale * (double) (1L << (31 - inputIntegerBits)), (double) ((1L << 31) - 1));
        return quantizeMultiplierGreaterThanOne(real);
    }

    /** TFLite's {@code CalculateInputRadius}: the largest input difference whose rescaled value still fits. */
    public static int calculateInputRadius(int inputIntegerBits, int inputLeftShift) {
        double maxInputRescaled = 1.0
                * ((1 << inputIntegerBits) - 1)
                * (double) (1L << (31 - inputIntegerBits))
                / (double) (1L << inputLeftShift);
        return (int) Math.floor(maxInputRescaled);
    }
}
