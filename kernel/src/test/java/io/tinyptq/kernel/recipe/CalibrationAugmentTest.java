package io.tinyptq.kernel.recipe;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.tinyptq.api.TinyPtqException;
import io.tinyptq.api.model.Shape;
import io.tinyptq.api.spi.CalibrationSet;
import org.junit.jupiter.api.Test;

class CalibrationAugmentTest {

    /** Two 2 x 3 x 2 images whose value encodes (sample, row, column, channel) as one number. */
    private static CalibrationSet images() {
        float[] x = new float[2 * 12];
        for (int i = 0; i < 2; i++) {
            for (int y = 0; y < 2; y++) {
                for (int c = 0; c < 3; c++) {
                    for (int ch = 0; ch < 2; ch++) {
                        x[i * 12 + (y * 3 + c) * 2 + ch] = 1000 * i + 100 * y + 10 * c + ch;
                    }
                }
            }
        }
        return new CalibrationSet("grid", Shape.of(2, 3, 2), x, new int[] {4, 7});
    }

    @Test
    void hflipAppendsEachImageMirroredLeftToRight() {
        CalibrationSet out = CalibrationAugment.HFLIP.apply(images());
        assertEquals(4, out.size());
        assertEquals("grid + left-right mirrors (4 samples)", out.source());
        assertArrayEquals(new int[] {4, 7, 4, 7}, out.labels());
        float[] in = images().data();
        assertArrayEquals(in, java.util.Arrays.copyOf(out.data(), in.length));
        // Row 1 of the mirrored second image, written out: columns 2, 1, 0, channels in order.
        assertArrayEquals(
                new float[] {1120, 1121, 1110, 1111, 1100, 1101},
                java.util.Arrays.copyOfRange(out.data(), 3 * 12 + 6, 3 * 12 + 12));
        // Mirroring twice gives the original back.
        CalibrationSet mirrored = new CalibrationSet(
                "m", out.sampleShape(), java.util.Arrays.copyOfRange(out.data(), 24, 48), new int[0]);
        assertArrayEquals(
                in,
                java.util.Arrays.copyOfRange(
                        CalibrationAugment.HFLIP.apply(mirrored).data(), 24, 48));
    }

    @Test
    void noneKeepsTheSetAndHflipRefusesNonImages() {
        CalibrationSet set = images();
        assertSame(set, CalibrationAugment.NONE.apply(set));
        CalibrationSet mfcc = new CalibrationSet("kws-test (2 samples)", Shape.of(3, 4), new float[24], new int[0]);
        var e = assertThrows(TinyPtqException.class, () -> CalibrationAugment.HFLIP.apply(mfcc));
        assertEquals(
                "calibration.augment = hflip needs image samples of shape (height, width, channels), but"
                        + " kws-test (2 samples) has samples of shape " + Shape.of(3, 4),
                e.getMessage());
    }
}
