package io.tinyptq.deploy.c.memory;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link BitPacking}: round trips at every width with odd lengths, golden bytes derived by hand (the bit arithmetic
 * is in the comments), range checks and the bit-width helpers.
 */
class BitPackingTest {
    private static final int[] LENGTHS = {0, 1, 3, 7, 13, 1001};

    static Stream<Arguments> widthsAndLengths() {
        return IntStream.rangeClosed(1, 8)
                .boxed()
                .flatMap(bits -> IntStream.of(LENGTHS).mapToObj(n -> Arguments.of(bits, n)));
    }

    /** Random values over the whole range, the first two elements (where there are two) the range's extremes. */
    private static int[] randomValues(SplittableRandom random, int n, int lo, int hi) {
        int[] v = new int[n];
        for (int i = 0; i < n; i++) {
            v[i] = random.nextInt(lo, hi + 1);
        }
        if (n > 0) {
            v[0] = lo;
        }
        if (n > 1) {
            v[n - 1] = hi;
        }
        return v;
    }

    /** The bits past the last element are zero (the runtime may rely on it when it hashes or compares arrays). */
    private static void assertPaddingZero(byte[] packed, int bits, int n) {
        long used = (long) n * bits;
        for (long bit = used; bit < 8L * packed.length; bit++) {
            int b = packed[(int) (bit >>> 3)] >>> (int) (bit & 7) & 1;
            assertEquals(0, b, "padding bit " + bit);
        }
    }

    @ParameterizedTest(name = "{0} bits, {1} elements")
    @MethodSource("widthsAndLengths")
    void unsignedRoundTrips(int bits, int n) {
        SplittableRandom random = new SplittableRandom(31L * bits + n);
        int[] values = randomValues(random, n, 0, (1 << bits) - 1);
        byte[] packed = BitPacking.packUnsigned(values, bits);
        assertEquals(BitPacking.bytes(n, bits), packed.length);
        assertEquals((n * bits + 7) / 8, packed.length);
        assertArrayEquals(values, BitPacking.unpackUnsigned(packed, bits, n));
        assertPaddingZero(packed, bits, n);
    }

    @ParameterizedTest(name = "{0} bits, {1} elements")
    @MethodSource("widthsAndLengths")
    void signedRoundTrips(int bits, int n) {
        SplittableRandom random = new SplittableRandom(1_000_003L * bits + n);
        int lo = -(1 << (bits - 1));
        int hi = (1 << (bits - 1)) - 1;
        int[] values = randomValues(random, n, lo, hi);
        byte[] packed = BitPacking.packSigned(values, bits);
        assertEquals(BitPacking.bytes(n, bits), packed.length);
        assertArrayEquals(values, BitPacking.unpackSigned(packed, bits, n));
        assertPaddingZero(packed, bits, n);
        // The codes are the values' low bits: unpacked unsigned they are the values modulo 2^bits.
        int[] codes = BitPacking.unpackUnsigned(packed, bits, n);
        for (int i = 0; i < n; i++) {
            assertEquals(values[i] & ((1 << bits) - 1), codes[i], "element " + i);
        }
    }

    /** Every value of the range at every position of a byte (the element count spans all 8 bit phases). */
    @ParameterizedTest(name = "{0} bits")
    @ValueSource(ints = {1, 2, 3, 4, 5, 6, 7, 8})
    void everyValueAtEveryBitPhase(int bits) {
        int levels = 1 << bits;
        int n = levels * 8 + 1;
        int[] unsigned = new int[n];
        int[] signed = new int[n];
        for (int i = 0; i < n; i++) {
            unsigned[i] = (i * 7 + i / 8) % levels;
            signed[i] = unsigned[i] - levels / 2;
        }
        assertArrayEquals(unsigned, BitPacking.unpackUnsigned(BitPacking.packUnsigned(unsigned, bits), bits, n));
        assertArrayEquals(signed, BitPacking.unpackSigned(BitPacking.packSigned(signed, bits), bits, n));
    }

    /**
     * 3-bit {1, 2, 3, 4, 5, 6, 7, 0}: element i at bits [3i, 3i+3) of the stream. As one little-endian integer,
     * sum v_i << 3i = 1 + 16 + 192 + 2048 + 20480 + 196608 + 1835008 + 0 = 2054353 = 0x1F58D1, so the bytes are
     * D1 58 1F. Bit by bit: byte 0 holds bit 0 (e0 = 001), bit 4 (e1 = 010 at bits 3..5), bits 6, 7 (e2 = 011 at
     * 6..8, its top bit 8 in byte 1 is 0) = 1 + 16 + 64 + 128 = 0xD1; byte 1 holds bit 11 (e3 = 100 at 9..11),
     * bits 12, 14 (e4 = 101 at 12..14), bit 15 = e5's low bit, 0 (e5 = 110 at 15..17) = 8 + 16 + 64 = 0x58;
     * byte 2 holds bits 16, 17 (e5), 18, 19, 20 (e6 = 111), e7 = 0 at 21..23 = 0x1F.
     */
    @Test
    void threeBitGolden() {
        int[] values = {1, 2, 3, 4, 5, 6, 7, 0};
        byte[] packed = BitPacking.packUnsigned(values, 3);
        assertArrayEquals(new byte[] {(byte) 0xD1, 0x58, 0x1F}, packed);
        assertArrayEquals(values, BitPacking.unpackUnsigned(packed, 3, 8));
    }

    /** 2-bit signed {-2, -1, 0, 1}: codes 10, 11, 00, 01 at bits 0, 2, 4, 6: 2 + 3*4 + 0*16 + 1*64 = 78 = 0x4E. */
    @Test
    void twoBitSignedGolden() {
        int[] values = {-2, -1, 0, 1};
        byte[] packed = BitPacking.packSigned(values, 2);
        assertArrayEquals(new byte[] {0x4E}, packed);
        assertArrayEquals(values, BitPacking.unpackSigned(packed, 2, 4));
        assertArrayEquals(new int[] {2, 3, 0, 1}, BitPacking.unpackUnsigned(packed, 2, 4));
    }

    @Test
    void moreGoldens() {
        // 1 bit {1,0,1,1,0,0,0,0,1}: bits 0, 2, 3 of byte 0 = 1 + 4 + 8 = 0x0D; element 8 is bit 0 of byte 1.
        assertArrayEquals(new byte[] {0x0D, 0x01}, BitPacking.packUnsigned(new int[] {1, 0, 1, 1, 0, 0, 0, 0, 1}, 1));
        // 1 bit signed holds {-1, 0}: -1 is code 1.
        assertArrayEquals(new byte[] {0x05}, BitPacking.packSigned(new int[] {-1, 0, -1}, 1));
        assertArrayEquals(new int[] {-1, 0, -1}, BitPacking.unpackSigned(new byte[] {0x05}, 1, 3));
        // 4 bits {1, 15, 10}: low nibble first, 0xF1; the odd element alone in the low nibble of byte 1, 0x0A.
        assertArrayEquals(new byte[] {(byte) 0xF1, 0x0A}, BitPacking.packUnsigned(new int[] {1, 15, 10}, 4));
        // 4 bits signed {-8, 7}: codes 1000, 0111 -> 0x78.
        assertArrayEquals(new byte[] {0x78}, BitPacking.packSigned(new int[] {-8, 7}, 4));
        // 5 bits signed {-16, 15}: codes 10000 = 16 and 01111 = 15 << 5 = 480; 496 = 0x1F0 -> F0 01.
        assertArrayEquals(new byte[] {(byte) 0xF0, 0x01}, BitPacking.packSigned(new int[] {-16, 15}, 5));
        // 7 bits {127, 1}: 127 + 1 << 7 = 255 -> FF 00 (14 bits, two bytes).
        assertArrayEquals(new byte[] {(byte) 0xFF, 0x00}, BitPacking.packUnsigned(new int[] {127, 1}, 7));
        // 6 bits {63, 0, 63, 0}: 63 + 63 << 12 = 0x3F03F -> 3F F0 03.
        assertArrayEquals(new byte[] {0x3F, (byte) 0xF0, 0x03}, BitPacking.packUnsigned(new int[] {63, 0, 63, 0}, 6));
        // 8 bits signed is plain int8.
        assertArrayEquals(
                new byte[] {(byte) 0x80, 0x7F, (byte) 0xFF, 0x00},
                BitPacking.packSigned(new int[] {-128, 127, -1, 0}, 8));
        assertArrayEquals(
                new int[] {-128, 127, -1, 0},
                BitPacking.unpackSigned(new byte[] {(byte) 0x80, 0x7F, (byte) 0xFF, 0x00}, 8, 4));
        assertArrayEquals(
                new int[] {128, 127, 255, 0},
                BitPacking.unpackUnsigned(new byte[] {(byte) 0x80, 0x7F, (byte) 0xFF, 0x00}, 8, 4));
    }

    @ParameterizedTest(name = "{0} bits: {1}")
    @CsvSource({"1, 2", "1, -1", "2, 4", "3, 8", "3, -1", "4, 16", "8, 256", "8, -1", "7, 128"})
    void unsignedOutOfRangeIsRefusedNamingTheElement(int bits, int bad) {
        int[] values = new int[5];
        values[3] = bad;
        var e = assertThrows(IllegalArgumentException.class, () -> BitPacking.packUnsigned(values, bits));
        assertTrue(e.getMessage().contains("element 3 = " + bad), e.getMessage());
    }

    @ParameterizedTest(name = "{0} bits: {1}")
    @CsvSource({"1, 1", "1, -2", "2, 2", "2, -3", "3, 4", "3, -5", "4, 8", "4, -9", "8, 128", "8, -129"})
    void signedOutOfRangeIsRefusedNamingTheElement(int bits, int bad) {
        int[] values = new int[7];
        values[6] = bad;
        var e = assertThrows(IllegalArgumentException.class, () -> BitPacking.packSigned(values, bits));
        assertTrue(e.getMessage().contains("element 6 = " + bad), e.getMessage());
    }

    @ParameterizedTest(name = "{0} bits")
    @ValueSource(ints = {0, -1, 9, 16, 32})
    void widthsOutsideOneToEightAreRefused(int bits) {
        assertThrows(IllegalArgumentException.class, () -> BitPacking.bytes(1, bits));
        assertThrows(IllegalArgumentException.class, () -> BitPacking.packUnsigned(new int[] {0}, bits));
        assertThrows(IllegalArgumentException.class, () -> BitPacking.packSigned(new int[] {0}, bits));
        assertThrows(IllegalArgumentException.class, () -> BitPacking.unpackUnsigned(new byte[4], bits, 1));
        assertThrows(IllegalArgumentException.class, () -> BitPacking.unpackSigned(new byte[4], bits, 1));
    }

    @ParameterizedTest(name = "{0} elements of {1} bits: {2} bytes")
    @CsvSource({
        "0, 3, 0",
        "1, 1, 1",
        "7, 1, 1",
        "8, 1, 1",
        "9, 1, 2",
        "1, 3, 1",
        "3, 3, 2",
        "7, 3, 3",
        "8, 3, 3",
        "9, 3, 4",
        "13, 3, 5",
        "1001, 3, 376",
        "3, 4, 2",
        "13, 4, 7",
        "1001, 4, 501",
        "13, 5, 9",
        "7, 7, 7",
        "1001, 8, 1001",
        "1, 8, 1",
        "3, 2, 1",
        "5, 2, 2",
        "13, 2, 4"
    })
    void bytesRoundsUp(int count, int bits, int expected) {
        assertEquals(expected, BitPacking.bytes(count, bits));
    }

    @Test
    void unpackRefusesShortInputAndNegativeCountsAndIgnoresTrailingBytes() {
        var e = assertThrows(IllegalArgumentException.class, () -> BitPacking.unpackUnsigned(new byte[1], 3, 3));
        assertTrue(e.getMessage().contains("need 2 bytes, got 1"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> BitPacking.unpackSigned(new byte[4], 4, 9));
        assertThrows(IllegalArgumentException.class, () -> BitPacking.unpackUnsigned(new byte[4], 4, -1));
        assertThrows(IllegalArgumentException.class, () -> BitPacking.unpackSigned(new byte[4], 4, -1));
        assertArrayEquals(new int[0], BitPacking.unpackSigned(new byte[0], 5, 0));
        assertArrayEquals(new int[] {1, 15}, BitPacking.unpackUnsigned(new byte[] {(byte) 0xF1, 0x7F, 0x7F}, 4, 2));
    }

    @ParameterizedTest(name = "[{0}, {1}] -> {2} bits")
    @CsvSource({
        "0, 0, 1",
        "-1, 0, 1",
        "-1, -1, 1",
        "0, 1, 2",
        "-2, 1, 2",
        "-2, 0, 2",
        "-3, 0, 3",
        "0, 3, 3",
        "0, 4, 4",
        "-4, 3, 3",
        "-8, 7, 4",
        "-9, 7, 5",
        "-8, 8, 5",
        "-128, 127, 8",
        "-129, 0, 9",
        "0, 128, 9",
        "-32768, 32767, 16",
        "-1073741824, 1073741823, 31",
        "-1073741825, 0, 32",
        "0, 1073741824, 32",
        "-2147483648, 2147483647, 32",
        "-2147483648, 0, 32",
        "0, 2147483647, 32"
    })
    void signedBits(int min, int max, int expected) {
        assertEquals(expected, BitPacking.signedBits(min, max));
    }

    @ParameterizedTest(name = "{0} levels -> {1} bits")
    @CsvSource({
        "0, 1",
        "1, 1",
        "2, 1",
        "3, 2",
        "4, 2",
        "5, 3",
        "8, 3",
        "9, 4",
        "15, 4",
        "16, 4",
        "17, 5",
        "255, 8",
        "256, 8",
        "257, 9",
        "65536, 16",
        "1073741824, 30",
        "1073741825, 31",
        "2147483647, 31"
    })
    void unsignedBits(int levels, int expected) {
        assertEquals(expected, BitPacking.unsignedBits(levels));
    }

    /** The helpers agree with the packers: the width they give packs the range, one bit fewer does not. */
    @Test
    void helpersAgreeWithThePackers() {
        for (int lo = -130; lo <= 0; lo += 3) {
            for (int hi = 0; hi <= 130; hi += 7) {
                int bits = BitPacking.signedBits(lo, hi);
                if (bits > 8) {
                    continue;
                }
                int[] range = {lo, hi};
                assertArrayEquals(range, BitPacking.unpackSigned(BitPacking.packSigned(range, bits), bits, 2));
                if (bits > 1) {
                    int fewer = bits - 1;
                    assertThrows(IllegalArgumentException.class, () -> BitPacking.packSigned(range, fewer));
                }
            }
        }
        for (int levels = 1; levels <= 256; levels++) {
            int bits = BitPacking.unsignedBits(levels);
            int[] top = {levels - 1};
            assertArrayEquals(top, BitPacking.unpackUnsigned(BitPacking.packUnsigned(top, bits), bits, 1));
            if (bits > 1) {
                int fewer = bits - 1;
                assertThrows(IllegalArgumentException.class, () -> BitPacking.packUnsigned(top, fewer));
            }
        }
    }
}
