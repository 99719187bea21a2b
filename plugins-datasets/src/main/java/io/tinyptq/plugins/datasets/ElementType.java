package io.tinyptq.plugins.datasets;

import io.tinyptq.api.TinyPtqException;
import java.nio.ByteBuffer;
import java.util.Locale;

/** How one stored value is encoded: {@code u8}, {@code i8} or little-endian {@code f32}. */
enum ElementType {
    U8(1),
    I8(1),
    F32(4);

    final int bytes;

    ElementType(int bytes) {
        this.bytes = bytes;
    }

    static ElementType of(Descriptor d, String key, ElementType absent) {
        if (!d.has(key)) {
            return absent;
        }
        String s = d.string(key);
        for (ElementType t : values()) {
            if (t.name().toLowerCase(Locale.ROOT).equals(s)) {
                return t;
            }
        }
        throw new TinyPtqException(d.where(key) + ": " + key + " '" + s + "' is not one of u8, i8, f32");
    }

    /** Reads {@code n} values starting at byte {@code at} into {@code dst[offset..]}. */
    void read(ByteBuffer src, int at, int n, float[] dst, int offset) {
        switch (this) {
            case U8 -> {
                for (int i = 0; i < n; i++) {
                    dst[offset + i] = src.get(at + i) & 0xff;
                }
            }
            case I8 -> {
                for (int i = 0; i < n; i++) {
                    dst[offset + i] = src.get(at + i);
                }
            }
            case F32 -> {
                for (int i = 0; i < n; i++) {
                    dst[offset + i] = src.getFloat(at + 4 * i);
                }
            }
        }
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
