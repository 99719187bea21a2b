package io.tinyptq.integer;

import static io.tinyptq.integer.IntModelBuilder.runInts;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.tinyptq.api.integer.FixedPoint;
import io.tinyptq.api.integer.IntegerModel;
import io.tinyptq.api.model.Activation;
import io.tinyptq.api.model.Op;
import io.tinyptq.api.model.Padding;
import io.tinyptq.api.model.Shape;
import org.junit.jupiter.api.Test;

/**
 * XNNPACK's int8 formulas against golden values computed by hand, each next to what TFLite's fixed point gives for
 * the same numbers (the arithmetic is in the comments).
 */
class XnnpackArithmeticTest {
    private static final ReferenceIntegerRuntime.Options XNNPACK = new ReferenceIntegerRuntime.Options(
            ReferenceIntegerRuntime.SoftmaxKernel.REFERENCE, ReferenceIntegerRuntime.Arithmetic.XNNPACK);

    /**
     * XNNPACK's MEAN: sum less {@code n * zi}, times {@code (in/out) * (1/n)} in float, ties to even. Four values of
     * two channels, zi = -3, in/out scale ratio 1: channel 0 sums 1+2+3+4 = 10, +12 = 22, / 4 = 5.5 -> 6 (even);
     * channel 1 sums -1-2-3-3 = -9, +12 = 3, / 4 = 0.75 -> 1; plus zo = 10.
     */
    @Test
    void meanScalesTheSumInFloatAndRoundsTiesToEven() {
        int[] in = {1, -1, 2, -2, 3, -3, 4, -3};
        int[] out = new int[2];
        XnnpackArithmetic.mean(
                in, 4, 2, -3, XnnpackArithmetic.meanScale(0.5f, 0.5f, 4), 10, -128, 127, new int[2], out);
        assertArrayEquals(new int[] {16, 11}, out);
        // Sum 6 less 4 * -3 is 18; 18 / 4 = 4.5 rounds to even, 4.
        XnnpackArithmetic.mean(
                new int[] {0, 0, 0, 6},
                4,
                1,
                -3,
                XnnpackArithmetic.meanScale(1f, 1f, 4),
                0,
                -128,
                127,
                new int[1],
                out);
        assertEquals(4, out[0]);
        // Clamped to the output range before rounding.
        XnnpackArithmetic.mean(
                new int[] {100, 100}, 2, 1, 0, XnnpackArithmetic.meanScale(4f, 1f, 2), 0, -128, 5, new int[1], out);
        assertEquals(5, out[0]);
    }

    @Test
    void fp32RequantizationRoundsTiesToEven() {
        // 10 * 0.25 = 2.5 -> 2 (even); TFLite: 0.25 = (2^30, shift -1), the high multiply gives 5, the rounding
        // shift by 1 gives 2.5 -> 3 (away from zero)
        assertEquals(2, XnnpackArithmetic.requantize(10, 0.25f, 0, -128, 127));
        assertEquals(3, IntegerKernels.requantize(FixedPoint.Rounding.DOUBLE, 10, 1 << 30, -1, 0, -128, 127));
        // -10 * 0.25 = -2.5 -> -2; TFLite -3
        assertEquals(-2, XnnpackArithmetic.requantize(-10, 0.25f, 0, -128, 127));
        assertEquals(-3, IntegerKernels.requantize(FixedPoint.Rounding.DOUBLE, -10, 1 << 30, -1, 0, -128, 127));
        // 14 * 0.25 = 3.5 -> 4 in both (4 is even); the zero point is added after rounding: 4 + 7 = 11
        assertEquals(11, XnnpackArithmetic.requantize(14, 0.25f, 7, -128, 127));
        assertEquals(11, IntegerKernels.requantize(FixedPoint.Rounding.DOUBLE, 14, 1 << 30, -1, 7, -128, 127));
    }

    @Test
    void fp32RequantizationRoundsALargeAccumulatorToFloatFirst() {
        // acc = 2^25 + 2^19 + 1 at scale 2^-20: exactly 32.5 + 2^-20 -> 33. In float the accumulator loses its last
        // bit (the spacing of floats at 2^25 is 4): 2^25 + 2^19 -> exactly 32.5 -> 32 (even). TFLite: 2^-20 =
        // (2^30, shift -19): the high multiply rounds acc / 2 up to 2^24 + 2^18 + 1, the rounding shift by 19 gives
        // 32.5 + 2^-19 -> 33
        int acc = (1 << 25) + (1 << 19) + 1;
        assertEquals(32, XnnpackArithmetic.requantize(acc, 0x1.0p-20f, 0, -128, 127));
        assertEquals(33, IntegerKernels.requantize(FixedPoint.Rounding.DOUBLE, acc, 1 << 30, -19, 0, -128, 127));
    }

    @Test
    void fp32RequantizationClampsToTheOutputRange() {
        // 1000 * 1 + 5 -> 127; -1000 + 5 -> -128; a RELU bound of 5 (the zero point) keeps -3 + 5 = 2 at 5
        assertEquals(127, XnnpackArithmetic.requantize(1000, 1f, 5, -128, 127));
        assertEquals(-128, XnnpackArithmetic.requantize(-1000, 1f, 5, -128, 127));
        assertEquals(5, XnnpackArithmetic.requantize(-3, 1f, 5, 5, 127));
    }

    @Test
    void requantizationScaleIsAFloatProductAndQuotient() {
        // 0.5 * 0.25 / 0.125 = 1 exactly; 0.1f * 0.2f / 0.3f in float, left to right
        assertEquals(1f, XnnpackArithmetic.requantizationScale(0.5f, 0.25f, 0.125f));
        float p = 0.1f * 0.2f;
        assertEquals(p / 0.3f, XnnpackArithmetic.requantizationScale(0.1f, 0.2f, 0.3f));
    }

    @Test
    void activationBoundsAddTheZeroPointBeforeRounding() {
        // RELU6 at scale 4, zero point 1: 6 / 4 + 1 = 2.5 -> 2 (even); TFLite: 1 + round(1.5) = 3
        assertArrayEquals(new int[] {1, 2}, XnnpackArithmetic.activationRange(Activation.RELU6, 4f, 1));
        assertArrayEquals(new int[] {1, 3}, FixedPoint.activationRange(Activation.RELU6, 4f, 1, -128, 127));
        // NONE: the infinite bounds clamp to the type; RELU: [zero point, 127]
        assertArrayEquals(new int[] {-128, 127}, XnnpackArithmetic.activationRange(Activation.NONE, 0.1f, 3));
        assertArrayEquals(new int[] {-7, 127}, XnnpackArithmetic.activationRange(Activation.RELU, 0.1f, -7));
        // 6 / (6/255) - 128 lands on 127 (within float rounding, clamped)
        assertArrayEquals(new int[] {-128, 127}, XnnpackArithmetic.activationRange(Activation.RELU6, 6f / 255, -128));
    }

    @Test
    void addParametersAsXnnpackDerivesThem() {
        // a: scale 0.5 zp 1, b: scale 0.25 zp -2, output scale 1 zp 3: ratios 0.5 and 0.25; the larger, 0.5 = 2^-1,
        // gives shift 20 + 1 = 21; multipliers 0.5 * 2^21 = 2^20 and 0.25 * 2^21 = 2^19;
        // bias = 2^20 - 2^20 * 1 - 2^19 * (-2) = 2^20
        XnnpackArithmetic.AddParams p = XnnpackArithmetic.AddParams.of(0.5f, 1, 0.25f, -2, 1f, 3, -128, 127);
        assertEquals(new XnnpackArithmetic.AddParams(1 << 20, 1 << 19, 1 << 20, 21, 3, -128, 127), p);
        int[] out = new int[3];
        // (4, 0): 0.5 * 3 + 0.25 * 2 = 2 -> 5; (2, -2): 0.5 * 1 + 0 = 0.5 -> 1 (half up) -> 4;
        // (0, -2): -0.5 -> 0 (half up; TFLite's ADD rounds it away from zero to -1) -> 3
        XnnpackArithmetic.add(new int[] {4, 2, 0}, new int[] {0, -2, -2}, 3, p, out);
        assertArrayEquals(new int[] {5, 4, 3}, out);
    }

    @Test
    void addMultipliersRoundTiesToEven() {
        // ratios 1 (shift 20) and 2.5 * 2^-20: 2.5 -> 2; 1.5 * 2^-20: 1.5 -> 2
        assertEquals(
                2,
                XnnpackArithmetic.AddParams.of(1f, 0, 0x1.4p-19f, 0, 1f, 0, -128, 127)
                        .bMultiplier());
        assertEquals(
                2,
                XnnpackArithmetic.AddParams.of(1f, 0, 0x1.8p-20f, 0, 1f, 0, -128, 127)
                        .bMultiplier());
        // a ratio of 256 or more is outside XNNPACK's range
        assertThrows(
                IllegalArgumentException.class, () -> XnnpackArithmetic.AddParams.of(256f, 0, 1f, 0, 1f, 0, -128, 127));
    }

    @Test
    void executorAddsAsXnnpack() {
        // a + a, scales 0.5, output scale 2 zp 0: ratios 0.25, shift 22, multipliers 2^20, bias 2^21; the sum is
        // q / 2: q = 1 -> 0.5 -> 1; q = -1 -> -0.5 -> 0 (TFLite: -1); 3 -> 1.5 -> 2; -3 -> -1.5 -> -1 (TFLite: -2)
        IntegerModel m = new IntModelBuilder("add")
                .input("a", Shape.of(4), 0.5f, 0)
                .op(new Op.Add("add", "a", "a", "y", Activation.NONE), 2f, 0)
                .build();
        assertArrayEquals(new int[] {1, 0, 2, -1}, runInts(m, XNNPACK, 1, -1, 3, -3));
        assertArrayEquals(new int[] {1, -1, 2, -2}, runInts(m, 1, -1, 3, -3));
    }

    @Test
    void executorRequantizesLayersAsXnnpack() {
        // fully connected, input scale 1, weight 1 at scale 0.25, output scale 1: x * 0.25; x = 10 -> 2.5 -> 2
        // (TFLite 3), x = -10 -> -2 (TFLite -3), x = 6 -> 1.5 -> 2 (both)
        IntegerModel fc = new IntModelBuilder("fc")
                .input("x", Shape.of(1), 1f, 0)
                .weight("w", Shape.of(1, 1), 0, new int[] {1}, 0.25f)
                .op(new Op.FullyConnected("fc", "x", "w", null, "y", Activation.NONE), 1f, 0)
                .build();
        assertArrayEquals(new int[] {2}, runInts(fc, XNNPACK, 10));
        assertArrayEquals(new int[] {3}, runInts(fc, 10));
        assertArrayEquals(new int[] {-2}, runInts(fc, XNNPACK, -10));
        assertArrayEquals(new int[] {-3}, runInts(fc, -10));
        assertArrayEquals(new int[] {2}, runInts(fc, XNNPACK, 6));
        // a 1x1 convolution and a depthwise convolution with the same numbers, per channel: channel 1 at scale 0.75
        // gives 10 * 0.75 = 7.5 -> 8 (even) in both arithmetics
        IntegerModel conv = new IntModelBuilder("conv")
                .input("x", Shape.of(1, 1, 1), 1f, 0)
                .weight("w", Shape.of(2, 1, 1, 1), 0, new int[] {1, 1}, 0.25f, 0.75f)
                .op(new Op.Conv2D("c", "x", "w", null, "y", 1, 1, Padding.VALID, Activation.NONE), 1f, 0)
                .build();
        assertArrayEquals(new int[] {2, 8}, runInts(conv, XNNPACK, 10));
        assertArrayEquals(new int[] {3, 8}, runInts(conv, 10));
        IntegerModel dw = new IntModelBuilder("dw")
                .input("x", Shape.of(1, 1, 2), 1f, 0)
                .weight("w", Shape.of(1, 1, 2), 2, new int[] {1, 1}, 0.25f, 0.75f)
                .op(new Op.DepthwiseConv2D("d", "x", "w", null, "y", 1, 1, Padding.VALID, 1, Activation.NONE), 1f, 0)
                .build();
        assertArrayEquals(new int[] {2, 8}, runInts(dw, XNNPACK, 10, 10));
        assertArrayEquals(new int[] {3, 8}, runInts(dw, 10, 10));
    }

    @Test
    void defaultArithmeticIsTflitesReference() {
        assertEquals(
                ReferenceIntegerRuntime.Arithmetic.TFLITE_REFERENCE,
                new ReferenceIntegerRuntime().defaultOptions().arithmetic());
    }
}
