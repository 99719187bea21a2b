package io.tinyptq.integer;

import static io.tinyptq.integer.IntModelBuilder.runInts;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyptq.api.InvalidModelException;
import io.tinyptq.api.integer.FixedPoint;
import io.tinyptq.api.integer.IntegerModel;
import io.tinyptq.api.integer.KernelParams;
import io.tinyptq.api.model.Activation;
import io.tinyptq.api.model.Op;
import io.tinyptq.api.model.Padding;
import io.tinyptq.api.model.Shape;
import io.tinyptq.api.spi.ModelExecutor;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Each integer op against golden outputs computed by hand (the arithmetic is in the comments). */
class IntegerOpsTest {

    // input [3,3,1], zero point 1, scale 0.5: stored q = 2..10, so x = q - 1 = [[1,2,3],[4,5,6],[7,8,9]]
    private static final int[] CONV_IN = {2, 3, 4, 5, 6, 7, 8, 9, 10};

    /**
     * Two output channels, weights OHWI [2,2,2,1]: ch0 = [[1,0],[0,-1]] at scale 0.25, ch1 = [[1,1],[1,1]] at scale
     * 0.5; output scale 0.125, zero point -5: effective scales 0.5*0.25/0.125 = 1 and 0.5*0.5/0.125 = 2 (both
     * exact in fixed point); biases 10 and -20.
     */
    private static IntegerModel conv(int stride, Padding padding, Activation act) {
        return new IntModelBuilder("conv")
                .input("x", Shape.of(3, 3, 1), 0.5f, 1)
                .weight("w", Shape.of(2, 2, 2, 1), 0, new int[] {1, 0, 0, -1, 1, 1, 1, 1}, 0.25f, 0.5f)
                .bias("b", new int[] {10, -20}, 0.125f, 0.25f)
                .op(new Op.Conv2D("conv", "x", "w", "b", "y", stride, stride, padding, act), 0.125f, -5)
                .build();
    }

    @Test
    void conv2dValidPerChannel() {
        // ch0: x[oy][ox] - x[oy+1][ox+1] = -4 everywhere; + 10 = 6; * 1; - 5 = 1
        // ch1: window sums 12, 16, 24, 28; - 20 = -8, -4, 4, 8; * 2 = -16, -8, 8, 16; - 5 = -21, -13, 3, 11
        assertArrayEquals(
                new int[] {1, -21, 1, -13, 1, 3, 1, 11}, runInts(conv(1, Padding.VALID, Activation.NONE), CONV_IN));
    }

    @Test
    void conv2dSameStrideTwoPadsWithTheZeroPointAndRelu() {
        // SAME, k 2, s 2 on 3: output 2, total padding 1, all of it after (bottom/right); padded taps read x = 0.
        // ch0: (0,0) 1-5 = -4, (0,1) 3-0 = 3, (1,0) 7-0 = 7, (1,1) 9; +10 -> 6, 13, 17, 19; -5 -> 1, 8, 12, 14
        // ch1: (0,0) 12, (0,1) 3+6 = 9, (1,0) 7+8 = 15, (1,1) 9; -20, *2, -5 -> -21, -27, -15, -27
        assertArrayEquals(
                new int[] {1, -21, 8, -27, 12, -15, 14, -27}, runInts(conv(2, Padding.SAME, Activation.NONE), CONV_IN));
        // RELU clamps at the output zero point -5
        assertArrayEquals(
                new int[] {1, -5, 8, -5, 12, -5, 14, -5}, runInts(conv(2, Padding.SAME, Activation.RELU), CONV_IN));
    }

    @Test
    void conv2dExplicitPaddingBeforeTheImage() {
        // EXPLICIT top 1, left 1, k 2, s 2 on the padded 4x4: output 2x2. ch0 window (0,0) = pad(0) - x00 = -1 -> +10 =
        // 9 -> 4;
        // (0,1): 0 - x02 = -3 -> 7 -> 2; (1,0): 0 - x20 = -7 -> 3 -> -2; (1,1): x11 - x22 = 5 - 9 = -4 -> 6 -> 1.
        // ch1: (0,0) x00 = 1; (0,1) x01+x02 = 5; (1,0) x10+x20 = 11; (1,1) x11+x12+x21+x22 = 28;
        // -20 -> -19, -15, -9, 8; *2 -> -38, -30, -18, 16; -5 -> -43, -35, -23, 11
        IntegerModel m = conv(2, Padding.explicit(1, 0, 1, 0), Activation.NONE);
        assertArrayEquals(new int[] {4, -43, 2, -35, -2, -23, 1, 11}, runInts(m, CONV_IN));
    }

    @Test
    void depthwiseWithMultiplierAndPerChannelRounding() {
        // input [2,2,2] (scale 1, zero point 0): ch0 = [[1,2],[3,4]], ch1 = [[-1,0],[2,5]]; multiplier 2, so output
        // channels oc0, oc1 read ch0 and oc2, oc3 read ch1. Weights [2,2,4] per tap: (0,0) [1,1,1,0],
        // (0,1) [1,-1,1,0], (1,0) [1,0,1,0], (1,1) [1,0,1,2]; scales [1, 1, 0.5, 0.25]; bias [0, 0, 1, 0].
        // oc0 = 1+2+3+4 = 10; oc1 = 1-2 = -1; oc2 = -1+0+2+5 + 1 = 7, * 0.5 = 3.5 -> 4 (the high multiply rounds
        // half up); oc3 = 2*5 = 10, * 0.25 = high multiply by 2^30 gives 5, rounding shift by 1 gives 2.5 -> 3.
        IntegerModel m = new IntModelBuilder("dw")
                .input("x", Shape.of(2, 2, 2), 1f, 0)
                .weight(
                        "w",
                        Shape.of(2, 2, 4),
                        2,
                        new int[] {1, 1, 1, 0, 1, -1, 1, 0, 1, 0, 1, 0, 1, 0, 1, 2},
                        1f,
                        1f,
                        0.5f,
                        0.25f)
                .bias("b", new int[] {0, 0, 1, 0}, 1f, 1f, 0.5f, 0.25f)
                .op(new Op.DepthwiseConv2D("dw", "x", "w", "b", "y", 1, 1, Padding.VALID, 2, Activation.NONE), 1f, 0)
                .build();
        assertArrayEquals(new int[] {10, -1, 4, 3}, runInts(m, 1, -1, 2, 0, 3, 2, 4, 5));
    }

    @Test
    void depthwiseSamePaddingStrideTwo() {
        // input [3,3,1] x = q - 1 = 1..9 (zero point 1), 3x3 kernel of ones, SAME stride 2: output 2x2, total
        // padding (2-1)*2+3-3 = 2, one before: windows centred on (0,0), (0,2), (2,0), (2,2):
        // 1+2+4+5 = 12, 2+3+5+6 = 16, 4+5+7+8 = 24, 5+6+8+9 = 28; scale 0.5*0.25/0.5 = 0.25 -> 3, 4, 6, 7; zp 0
        IntegerModel m = new IntModelBuilder("dw")
                .input("x", Shape.of(3, 3, 1), 0.5f, 1)
                .weight("w", Shape.of(3, 3, 1), 2, new int[] {1, 1, 1, 1, 1, 1, 1, 1, 1}, 0.25f)
                .op(new Op.DepthwiseConv2D("dw", "x", "w", null, "y", 2, 2, Padding.SAME, 1, Activation.NONE), 0.5f, 0)
                .build();
        assertArrayEquals(new int[] {3, 4, 6, 7}, runInts(m, CONV_IN));
    }

    @Test
    void conv1dSamePadding() {
        // input [4,1] = 1,2,3,4, kernel [1,3,1] of ones, all scales 1, zero points 0.
        // stride 1 SAME: one pad each side -> 0+1+2, 1+2+3, 2+3+4, 3+4+0 = 3, 6, 9, 7
        // stride 2 SAME: output 2, total padding (2-1)*2+3-4 = 1, after -> 1+2+3, 3+4+0 = 6, 7
        for (int stride : new int[] {1, 2}) {
            IntegerModel m = new IntModelBuilder("c1")
                    .input("x", Shape.of(4, 1), 1f, 0)
                    .weight("w", Shape.of(1, 3, 1), 0, new int[] {1, 1, 1}, 1f)
                    .op(new Op.Conv1D("c1", "x", "w", null, "y", stride, Padding.SAME, Activation.NONE), 1f, 0)
                    .build();
            assertArrayEquals(stride == 1 ? new int[] {3, 6, 9, 7} : new int[] {6, 7}, runInts(m, 1, 2, 3, 4));
        }
    }

    @Test
    void fullyConnectedPerTensorWithRelu6() {
        // x = q - 2 = [8, -4, 2]; weights [[1,2,3],[-1,0,1],[10,0,0]] at 0.5; input scale 0.25 -> product 0.125;
        // output scale 0.0625 -> effective 2; bias [4, -100, 0]; output zero point 3.
        // acc = 8-8+6+4 = 10, -8+2-100 = -106, 80 -> *2 +3 -> 23, -209, 163; RELU6 clamp [3, 3 + 6/0.0625 = 99]
        IntegerModel m = new IntModelBuilder("fc")
                .input("x", Shape.of(3), 0.25f, 2)
                .weight("w", Shape.of(3, 3), 0, new int[] {1, 2, 3, -1, 0, 1, 10, 0, 0}, 0.5f)
                .bias("b", new int[] {4, -100, 0}, 0.125f)
                .op(new Op.FullyConnected("fc", "x", "w", "b", "y", Activation.RELU6), 0.0625f, 3)
                .build();
        assertArrayEquals(new int[] {23, 3, 99}, runInts(m, 10, -2, 4));
    }

    @Test
    void fullyConnectedPerChannel() {
        // x = [2, -1] (scale 0.5, zero point 0); rows [3, 1] at 0.25 and [1, 1] at 1.0; output scale 0.5:
        // effective 0.25 = (2^30, -1): 5 -> high multiply 2.5 -> 3 (half up) -> rounding shift 1.5 -> 2 (TFLite's two
        // roundings give 2 where 5 * 0.25 = 1.25 would round to 1); effective 1 -> 1; zero point -2 -> [0, -1]
        IntegerModel m = new IntModelBuilder("fcc")
                .input("x", Shape.of(2), 0.5f, 0)
                .weight("w", Shape.of(2, 2), 0, new int[] {3, 1, 1, 1}, 0.25f, 1f)
                .op(new Op.FullyConnected("fc", "x", "w", null, "y", Activation.NONE), 0.5f, -2)
                .build();
        assertArrayEquals(new int[] {0, -1}, runInts(m, 2, -1));
    }

    @Test
    void int4ConvolutionWeights() {
        // 1x1 conv, int4 weights [-8, 7] per channel at scale 1, input [2] (scale 1): outputs -16, 14
        IntegerModel m = new IntModelBuilder("c4")
                .input("x", Shape.of(1, 1, 1), 1f, 0)
                .weight4("w", Shape.of(2, 1, 1, 1), 0, new int[] {-8, 7}, 1f, 1f)
                .op(new Op.Conv2D("c", "x", "w", null, "y", 1, 1, Padding.VALID, Activation.NONE), 1f, 0)
                .build();
        assertArrayEquals(new int[] {-16, 14}, runInts(m, 2));
    }

    @Test
    void refusesAsymmetricConvolutionWeights() {
        var b = new IntModelBuilder("c").input("x", Shape.of(1, 1, 1), 1f, 0);
        b.weight("w", Shape.of(1, 1, 1, 1), 0, new int[] {1}, 1f);
        b.op(new Op.Conv2D("c", "x", "w", null, "y", 1, 1, Padding.VALID, Activation.NONE), 1f, 0);
        IntegerModel sym = b.build();
        var quant = new LinkedHashMap<>(sym.quant());
        quant.put("w", io.tinyptq.api.integer.TensorQuant.perTensor(io.tinyptq.api.integer.ElementType.INT8, 1f, 3));
        IntegerModel asym = new IntegerModel(sym.graph(), quant, sym.values(), Map.of());
        var e = assertThrows(InvalidModelException.class, () -> runInts(asym, 1));
        assertTrue(e.getMessage().contains("symmetric"), e.getMessage());
    }

    @Test
    void int4WeightsComputeLikeInt8() {
        // int4 values in [-8, 7]: [[-8, 7]] at scale 1, input [3, 2] zero point 0 scale 1, output scale 1:
        // -24 + 14 = -10
        IntegerModel m = new IntModelBuilder("fc4")
                .input("x", Shape.of(2), 1f, 0)
                .weight4("w", Shape.of(1, 2), 0, new int[] {-8, 7}, 1f)
                .op(new Op.FullyConnected("fc", "x", "w", null, "y", Activation.NONE), 1f, 0)
                .build();
        assertArrayEquals(new int[] {-10}, runInts(m, 3, 2));
    }

    @Test
    void addRescalesBothInputsAndRoundsTiesAwayFromZero() {
        // the reference runtime runs one-input models, so two different inputs are checked on the kernel with the
        // parameters TFLite derives for a: scale 0.5 zp 0; b: scale 0.25 zp 1; output scale 0.5 zp -1. Twice the
        // max input scale = 1: multipliers 0.5 = (2^30, 0), 0.25 = (2^30, -1), output 1 / (2^20 * 0.5) = 2^-19 =
        // (2^30, -18)
        KernelParams.Add p = new KernelParams.Add(20, 0, 1 << 30, 0, -1, 1 << 30, -1, -1, 1 << 30, -18, -128, 127);
        int[] out = new int[3];
        // (3, 5): 3*0.5 + 4*0.25 = 2.5 -> 5 - 1 = 4
        // (1, 2): 0.5 + 0.25 = 0.75 -> 1.5 in output steps -> 2 (tie away from zero) - 1 = 1
        // (-1, 0): -0.5 - 0.25 = -0.75 -> -1.5 -> -2 (tie away from zero) - 1 = -3
        IntegerKernels.add(FixedPoint.Rounding.DOUBLE, new int[] {3, 1, -1}, new int[] {5, 2, 0}, 3, p, out);
        assertArrayEquals(new int[] {4, 1, -3}, out);
    }

    @Test
    void addParametersAsTfliteDerivesThem() {
        // a + a through the executor: scales 0.5 and 0.5, output 0.5 zp -1: 2*max = 1, multipliers 0.5, 0.5,
        // output 2^-19. q = [3, -1, 0] -> sums 3, -1, 0 -> 6, -2, 0 -> -1 -> 5, -3, -1; with RELU min -1
        IntegerModel m = new IntModelBuilder("add2")
                .input("a", Shape.of(3), 0.5f, 0)
                .op(new Op.Add("add", "a", "a", "y", Activation.NONE), 0.5f, -1)
                .build();
        assertArrayEquals(new int[] {5, -3, -1}, runInts(m, 3, -1, 0));
        IntegerModel r = new IntModelBuilder("add3")
                .input("a", Shape.of(3), 0.5f, 0)
                .op(new Op.Add("add", "a", "a", "y", Activation.RELU), 0.5f, -1)
                .build();
        assertArrayEquals(new int[] {5, -1, -1}, runInts(r, 3, -1, 0));
    }

    @Test
    void averagePoolRoundsTiesAwayFromZeroOverValidElements() {
        // input [2,3,1] = [[1,2,4],[-1,-8,3]]
        // VALID 2x2 stride 1: (0,0) 1+2-1-8 = -6 / 4 = -1.5 -> -2; (0,1) 2+4-8+3 = 1 / 4 -> 0
        // SAME 2x2 stride 2: W total padding 1 after: (0,0) -6/4 -> -2; (0,1) only column 2: (4+3)/2 = 3.5 -> 4
        int[] in = {1, 2, 4, -1, -8, 3};
        IntegerModel valid = new IntModelBuilder("p")
                .input("x", Shape.of(2, 3, 1), 1f, 0)
                .op(new Op.Pool("p", "x", "y", Op.PoolKind.AVG, 2, 2, 1, 1, Padding.VALID, Activation.NONE), 1f, 0)
                .build();
        assertArrayEquals(new int[] {-2, 0}, runInts(valid, in));
        IntegerModel same = new IntModelBuilder("p")
                .input("x", Shape.of(2, 3, 1), 1f, 0)
                .op(new Op.Pool("p", "x", "y", Op.PoolKind.AVG, 2, 2, 2, 2, Padding.SAME, Activation.NONE), 1f, 0)
                .build();
        assertArrayEquals(new int[] {-2, 4}, runInts(same, in));
        // max pool VALID 2x2: max(1,2,-1,-8) = 2, max(2,4,-8,3) = 4; with RELU6 on scale 1 zp 0: clamp [0, 6]
        IntegerModel max = new IntModelBuilder("p")
                .input("x", Shape.of(2, 3, 1), 1f, 0)
                .op(new Op.Pool("p", "x", "y", Op.PoolKind.MAX, 2, 2, 1, 1, Padding.VALID, Activation.NONE), 1f, 0)
                .build();
        assertArrayEquals(new int[] {2, 4}, runInts(max, in));
        // average with RELU at zero point 0: -2 -> 0
        IntegerModel relu = new IntModelBuilder("p")
                .input("x", Shape.of(2, 3, 1), 1f, 0)
                .op(new Op.Pool("p", "x", "y", Op.PoolKind.AVG, 2, 2, 1, 1, Padding.VALID, Activation.RELU), 1f, 0)
                .build();
        assertArrayEquals(new int[] {0, 0}, runInts(relu, in));
    }

    @Test
    void poolRefusesDifferentInputAndOutputQuantization() {
        IntegerModel m = new IntModelBuilder("p")
                .input("x", Shape.of(2, 2, 1), 1f, 0)
                .op(new Op.Pool("p", "x", "y", Op.PoolKind.AVG, 2, 2, 1, 1, Padding.VALID, Activation.NONE), 0.5f, 0)
                .build();
        var e = assertThrows(InvalidModelException.class, () -> runInts(m, 1, 2, 3, 4));
        assertTrue(e.getMessage().contains("layer 'p'"), e.getMessage());
    }

    @Test
    void meanWithSameAndWithDifferentQuantization() {
        // input [2,2,2]: ch0 = 1,2,3,5 (sum 11), ch1 = -1,-2,-3,-5 (sum -11); n = 4, input zero point 1 -> the
        // shifted sums 11 - 4 = 7 and -11 - 4 = -15
        int[] in = {1, -1, 2, -2, 3, -3, 5, -5};
        // same quantization (0.5, 1): multiplier 1 = (2^30, 1); s = log2 4 = 2: (2^30 << 2) / 4 = 2^30, shift -1,
        // i.e. 0.25: 7 -> high multiply 3.5 -> 4 (half up) -> shift 1 -> 2, + 1 = 3;
        // -15 -> -7.5 -> -7 (half up) -> -3.5 -> -4 (away from zero), + 1 = -3
        IntegerModel same = new IntModelBuilder("m")
                .input("x", Shape.of(2, 2, 2), 0.5f, 1)
                .op(new Op.Mean("m", "x", "y"), 0.5f, 1)
                .build();
        assertArrayEquals(new int[] {3, -3}, runInts(same, in));
        // out scale 0.25 zp -3: multiplier 2 = (2^30, 2), s = 2 -> (2^30, 0) = 0.5: 7 -> 3.5 -> 4, - 3 = 1;
        // -15 -> -7.5 -> -7, - 3 = -10
        IntegerModel diff = new IntModelBuilder("m")
                .input("x", Shape.of(2, 2, 2), 0.5f, 1)
                .op(new Op.Mean("m", "x", "y"), 0.25f, -3)
                .build();
        assertArrayEquals(new int[] {1, -10}, runInts(diff, in));
        // three elements [1, 2, 2] (rank 2 input [3,1], zero point 0, equal scales): s = 1, multiplier
        // (2^30 << 1) / 3 = 715827882, shift 0: 5 * 715827882 / 2^31 = 1.67 -> 2
        IntegerModel three = new IntModelBuilder("m")
                .input("x", Shape.of(3, 1), 0.5f, 0)
                .op(new Op.Mean("m", "x", "y"), 0.5f, 0)
                .build();
        assertEquals(new FixedPoint.Multiplier(715827882, 0), KernelParams.mean(0.5f, 0.5f, 3));
        assertArrayEquals(new int[] {2}, runInts(three, 1, 2, 2));
    }

    @Test
    void padFillsWithTheZeroPoint() {
        // [2,2,1] = 1,2,3,4 with zero point 7, one row before, one column after -> [3,3,1]
        IntegerModel m = new IntModelBuilder("pad")
                .input("x", Shape.of(2, 2, 1), 1f, 7)
                .op(new Op.Pad("pad", "x", "y", new int[] {1, 0, 0}, new int[] {0, 1, 0}), 1f, 7)
                .build();
        assertArrayEquals(new int[] {7, 7, 7, 1, 2, 7, 3, 4, 7}, runInts(m, 1, 2, 3, 4));
    }

    @Test
    void reshapeKeepsTheIntegers() {
        IntegerModel m = new IntModelBuilder("r")
                .input("x", Shape.of(2, 2), 0.3f, 5)
                .op(new Op.Reshape("r", "x", "y", Shape.of(4)), 0.3f, 5)
                .build();
        assertArrayEquals(new int[] {-128, 0, 5, 127}, runInts(m, -128, 0, 5, 127));
    }

    @Test
    void standaloneReluAndRelu6() {
        // equal scales: a clamp at the zero point 3 on the integer grid
        IntegerModel relu = new IntModelBuilder("a")
                .input("x", Shape.of(4), 0.1f, 3)
                .op(new Op.Act("a", "x", "y", Activation.RELU), 0.1f, 3)
                .build();
        assertArrayEquals(new int[] {3, 3, 4, 127}, runInts(relu, -128, 2, 4, 127));
        // in 0.1 zp 0 -> out 0.05 zp -128: multiplier 2; -128 + 2x = -138, -108, -48, 72;
        // RELU6 range [-128, -128 + round(6 / 0.05) = -8]
        IntegerModel relu6 = new IntModelBuilder("a")
                .input("x", Shape.of(4), 0.1f, 0)
                .op(new Op.Act("a", "x", "y", Activation.RELU6), 0.05f, -128)
                .build();
        assertArrayEquals(new int[] {-128, -108, -48, -8}, runInts(relu6, -5, 10, 40, 100));
    }

    @Test
    void softmaxGoldenCases() {
        // equal logits: 1/2 each -> 128/256 -> 128 - 128 = 0; a difference of 20 (scale 0.1, 200 steps, beyond
        // diff_min) -> the maximum gets 256/256, clamped to 127, the other -128
        IntegerModel m = new IntModelBuilder("s")
                .input("x", Shape.of(2), 0.1f, 0)
                .op(new Op.Softmax("s", "x", "y"), 1f / 256, -128)
                .build();
        assertArrayEquals(new int[] {0, 0}, runInts(m, 7, 7));
        assertArrayEquals(new int[] {127, -128}, runInts(m, 100, -100));
        // four equal logits: 64/256 -> -64
        IntegerModel four = new IntModelBuilder("s")
                .input("x", Shape.of(4), 0.1f, 0)
                .op(new Op.Softmax("s", "x", "y"), 1f / 256, -128)
                .build();
        assertArrayEquals(new int[] {-64, -64, -64, -64}, runInts(four, 1, 1, 1, 1));
    }

    @Test
    void softmaxIsWithinOneStepOfTheFloatSoftmax() {
        java.util.Random rnd = new java.util.Random(7);
        float scale = 1f / 16;
        IntegerModel m = new IntModelBuilder("s")
                .input("x", Shape.of(10), scale, 0)
                .op(new Op.Softmax("s", "x", "y"), 1f / 256, -128)
                .build();
        for (int t = 0; t < 200; t++) {
            int[] q = new int[10];
            double[] e = new double[10];
            double sum = 0;
            for (int i = 0; i < 10; i++) {
                q[i] = rnd.nextInt(256) - 128;
            }
            int max = java.util.Arrays.stream(q).max().orElseThrow();
            for (int i = 0; i < 10; i++) {
                e[i] = Math.exp((q[i] - max) * (double) scale);
                sum += e[i];
            }
            int[] y = runInts(m, q);
            for (int i = 0; i < 10; i++) {
                double want = Math.min(127, Math.max(-128, e[i] / sum * 256 - 128));
                assertEquals(want, y[i], 1.0, "row " + t + " element " + i);
            }
        }
    }

    @Test
    void softmaxLookupTableAsLiteRtsDefaultKernel() {
        var lut = new ReferenceIntegerRuntime.Options(
                ReferenceIntegerRuntime.SoftmaxKernel.LOOKUP_TABLE,
                ReferenceIntegerRuntime.Arithmetic.TFLITE_REFERENCE);
        // equal logits: table entries exp(0) = 1, sum 2, 1 / (2 / 256) = 128 -> 128 - 128 = 0
        IntegerModel m = new IntModelBuilder("s")
                .input("x", Shape.of(2), 0.1f, 0)
                .op(new Op.Softmax("s", "x", "y"), 1f / 256, -128)
                .build();
        assertArrayEquals(new int[] {0, 0}, runInts(m, lut, 7, 7));
        // a difference of 200 steps: exp(-20) -> 0 -> -128; the maximum 256 -> clamped to 127
        assertArrayEquals(new int[] {127, -128}, runInts(m, lut, 100, -100));
        // [0, -16] at scale 1/16: exp(-1) = 0.3679, sum 1.3679: 256 / 1.3679 = 187.15 -> 187 - 128 = 59;
        // 0.3679 * 187.15 = 68.85 -> 69 - 128 = -59
        IntegerModel s16 = new IntModelBuilder("s")
                .input("x", Shape.of(2), 1f / 16, 0)
                .op(new Op.Softmax("s", "x", "y"), 1f / 256, -128)
                .build();
        assertArrayEquals(new int[] {59, -59}, runInts(s16, lut, 0, -16));
        // the two kernels agree within one step on random rows
        java.util.Random rnd = new java.util.Random(9);
        IntegerModel ten = new IntModelBuilder("s")
                .input("x", Shape.of(10), 1f / 16, 0)
                .op(new Op.Softmax("s", "x", "y"), 1f / 256, -128)
                .build();
        for (int t = 0; t < 200; t++) {
            int[] q = new int[10];
            for (int i = 0; i < 10; i++) {
                q[i] = rnd.nextInt(256) - 128;
            }
            int[] a = runInts(ten, q);
            int[] b = runInts(ten, lut, q);
            for (int i = 0; i < 10; i++) {
                assertEquals(a[i], b[i], 1, "row " + t);
            }
        }
    }

    @Test
    void softmaxRefusesAnOutputGridOtherThanTflites() {
        IntegerModel m = new IntModelBuilder("s")
                .input("x", Shape.of(2), 0.1f, 0)
                .op(new Op.Softmax("s", "x", "y"), 1f / 128, 0)
                .build();
        assertThrows(InvalidModelException.class, () -> runInts(m, 1, 2));
    }

    /**
     * input [2,2,1] (scale 0.5) -> conv 1x1 (w 2 at 0.5, bias 1, out scale 0.5, RELU) -> add with the input
     * (out 0.5) -> average pool 2x2 -> reshape [1] -> fully connected [[1],[-1]] at 1.0 (out scale 0.25).
     */
    @Test
    void tinyModelEndToEndWithTheListener() {
        IntegerModel m = new IntModelBuilder("tiny")
                .input("x", Shape.of(2, 2, 1), 0.5f, 0)
                .weight("cw", Shape.of(1, 1, 1, 1), 0, new int[] {2}, 0.5f)
                .bias("cb", new int[] {1}, 0.25f)
                .op(new Op.Conv2D("conv", "x", "cw", "cb", "c", 1, 1, Padding.VALID, Activation.RELU), 0.5f, 0)
                .op(new Op.Add("add", "c", "x", "s", Activation.NONE), 0.5f, 0)
                .op(new Op.Pool("pool", "s", "p", Op.PoolKind.AVG, 2, 2, 1, 1, Padding.VALID, Activation.NONE), 0.5f, 0)
                .op(new Op.Reshape("flat", "p", "f", Shape.of(1)), 0.5f, 0)
                .weight("fw", Shape.of(2, 1), 0, new int[] {1, -1}, 1f)
                .op(new Op.FullyConnected("fc", "f", "fw", null, "y", Activation.NONE), 0.25f, 0)
                .build();
        // input 0.25, 1.0, -0.25, 2.0 -> /0.5 = 0.5, 2, -0.5, 4 -> ties away from zero: q = 1, 2, -1, 4
        // conv: acc = 2q + 1 = 3, 5, -1, 9; * 0.5 with the high multiply rounding half up: 2, 3, 0, 5; RELU at 0
        // add (equal scales, exact): 2+1, 3+2, 0-1, 5+4 = 3, 5, -1, 9
        // pool: 16 / 4 = 4; fc: 0.5 * 1 / 0.25 = 2 -> [8, -8] -> dequantized [2.0, -2.0]
        Map<String, float[]> seen = new LinkedHashMap<>();
        try (ModelExecutor exec =
                new ReferenceIntegerRuntime().compile(m, 2, new ReferenceIntegerRuntime().defaultOptions())) {
            float[] y = exec.forward(
                    new float[] {0.25f, 1f, -0.25f, 2f, 0f, 0f, 0f, 0f},
                    2,
                    (t, v, off, len) -> seen.putIfAbsent(t, java.util.Arrays.copyOfRange(v, off, off + len)));
            // second sample all zeros: conv 1 * 0.5 = 0.5 -> 1 (half up), add 1, pool 1, fc [2, -2] -> [0.5, -0.5]
            assertArrayEquals(new float[] {2f, -2f, 0.5f, -0.5f}, y);
        }
        assertEquals(java.util.List.of("x", "c", "s", "p", "f", "y"), java.util.List.copyOf(seen.keySet()));
        assertArrayEquals(new float[] {0.5f, 1f, -0.5f, 2f}, seen.get("x"));
        assertArrayEquals(new float[] {1f, 1.5f, 0f, 2.5f}, seen.get("c"));
        assertArrayEquals(new float[] {1.5f, 2.5f, -0.5f, 4.5f}, seen.get("s"));
        assertArrayEquals(new float[] {2f}, seen.get("p"));
    }

    @Test
    void inputQuantizationClampsToInt8() {
        IntegerModel m = new IntModelBuilder("r")
                .input("x", Shape.of(3), 0.5f, 10)
                .op(new Op.Reshape("r", "x", "y", Shape.of(3)), 0.5f, 10)
                .build();
        try (ModelExecutor exec =
                new ReferenceIntegerRuntime().compile(m, 1, new ReferenceIntegerRuntime().defaultOptions())) {
            // 1000 -> 2000 + 10 -> 127; -1000 -> -128; -0.25 -> -0.5 -> -1 + 10 = 9
            float[] y = exec.forward(new float[] {1000f, -1000f, -0.25f}, 1, ModelExecutor.ActivationListener.NONE);
            assertArrayEquals(new float[] {58.5f, -69f, -0.5f}, y);
        }
    }

    @Test
    void floatBoundaryInputUsesItsIntegerQuantization() {
        // a file with a float input and QUANTIZE at the boundary: the input quantized with the boundary's grid
        IntegerModel ints = new IntModelBuilder("r")
                .input("x", Shape.of(2), 0.5f, 0)
                .op(new Op.Reshape("r", "x", "y", Shape.of(2)), 0.5f, 0)
                .build();
        var quant = new LinkedHashMap<>(ints.quant());
        quant.put("x", io.tinyptq.api.integer.TensorQuant.float32());
        IntegerModel boundary = new IntegerModel(
                ints.graph(),
                quant,
                ints.values(),
                Map.of(
                        "x",
                        io.tinyptq.api.integer.TensorQuant.perTensor(
                                io.tinyptq.api.integer.ElementType.INT8, 0.5f, 0)));
        try (ModelExecutor exec =
                new ReferenceIntegerRuntime().compile(boundary, 1, new ReferenceIntegerRuntime().defaultOptions())) {
            // 0.75 / 0.5 = 1.5 -> 2 -> 1.0; -0.2 / 0.5 = -0.4 -> 0
            assertArrayEquals(
                    new float[] {1f, 0f},
                    exec.forward(new float[] {0.75f, -0.2f}, 1, ModelExecutor.ActivationListener.NONE));
        }
    }

    @Test
    void pluginIsNamedReference() {
        ReferenceIntegerRuntime r = new ReferenceIntegerRuntime();
        assertEquals("reference", r.name());
        assertEquals(ReferenceIntegerRuntime.Options.class, r.optionsType());
        assertEquals(
                ReferenceIntegerRuntime.SoftmaxKernel.REFERENCE,
                r.defaultOptions().softmax());
    }
}
