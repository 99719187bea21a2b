package io.tinyptq.api.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** Eq. 1 and Eq. 2 against values worked out by hand. */
class FakeQuantTest {

    @Test
    void gridsHoldTwoToTheBLevels() {
        assertEquals(new IntegerGrid(-128, 127), IntegerGrid.signed(8));
        assertEquals(new IntegerGrid(0, 255), IntegerGrid.unsigned(8));
        assertEquals(new IntegerGrid(-2, 1), IntegerGrid.signed(2));
        assertEquals(3, IntegerGrid.unsigned(2).levels());
        assertThrows(IllegalArgumentException.class, () -> IntegerGrid.signed(0));
    }

    @Test
    void eq1RoundsHalfToEvenAndClamps() {
        IntegerGrid g = IntegerGrid.unsigned(4); // [0, 15]
        // s = 0.5, z = 3: x = 1.25 -> 2.5 -> rint 2 (half to even) + 3 = 5 -> 0.5 * (5 - 3) = 1.0
        assertEquals(1.0f, FakeQuant.quantize(1.25f, 0.5f, 3f, g));
        // x = 1.75 -> 3.5 -> 4 + 3 = 7 -> 2.0
        assertEquals(2.0f, FakeQuant.quantize(1.75f, 0.5f, 3f, g));
        // clamped above: 100 -> p = 15 -> 0.5 * 12 = 6
        assertEquals(6.0f, FakeQuant.quantize(100f, 0.5f, 3f, g));
        // clamped below: -100 -> n = 0 -> 0.5 * -3 = -1.5
        assertEquals(-1.5f, FakeQuant.quantize(-100f, 0.5f, 3f, g));
        assertEquals(7, FakeQuant.code(1.75f, 0.5f, 3f, g));
    }

    @Test
    void eq2MapsTheRangeOntoTheGridWithZeroExact() {
        // [alpha, beta] = [-1, 3], 8 bits: s = 4/255, z = rint(255/4) = 64
        float[] sz = FakeQuant.asymmetricFromRange(-1f, 3f, IntegerGrid.unsigned(8));
        assertEquals(4f / 255f, sz[0], 1e-9);
        assertEquals(64f, sz[1]);
        assertEquals(0f, FakeQuant.quantize(0f, sz[0], sz[1], IntegerGrid.unsigned(8)));
        // A range without zero is widened to contain it.
        float[] pos = FakeQuant.asymmetricFromRange(2f, 4f, IntegerGrid.unsigned(8));
        assertArrayEquals(new float[] {4f / 255f, 0f}, pos, 1e-9f);
    }

    @Test
    void symmetricScalePutsTheMaximumOnTheTopGridPoint() {
        IntegerGrid g = IntegerGrid.signed(4); // [-8, 7]
        float s = FakeQuant.symmetricScale(-3.5f, g);
        assertEquals(0.5f, s);
        assertEquals(3.5f, FakeQuant.quantize(3.5f, s, 0f, g));
        assertEquals(-3.5f, FakeQuant.quantize(-3.5f, s, 0f, g));
        assertEquals(-4.0f, FakeQuant.quantize(-9f, s, 0f, g));
    }

    @Test
    void perChannelUsesTheChannelAxis() {
        // A [2, 3] tensor quantized per channel along axis 1: channel c has scale c+1.
        float[] x = {0.4f, 1.4f, 2.9f, -0.6f, -1.6f, 4.4f};
        QuantizerSpec spec = QuantizerSpec.weights(8, 1);
        QuantParams p = new QuantParams(new float[] {1f, 2f, 3f}, new float[3]);
        float[] out = new float[6];
        FakeQuant.apply(x, new int[] {2, 3}, spec, p, out);
        assertArrayEquals(new float[] {0f, 2f, 3f, -1f, -2f, 3f}, out);
    }

    @Test
    void quantParamsRejectNonPositiveScales() {
        var e = assertThrows(IllegalArgumentException.class, () -> new QuantParams(new float[] {1f, 0f}, new float[2]));
        assertEquals(
                "channel 1: scale must be finite and > 0 and the zero-point finite, got s=0.0, z=0.0", e.getMessage());
    }
}
