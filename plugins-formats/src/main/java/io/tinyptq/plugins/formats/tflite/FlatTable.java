package io.tinyptq.plugins.formats.tflite;

import com.google.flatbuffers.Table;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.function.Supplier;

/**
 * A read-only view of one flatbuffer table, addressed by field id (the order of fields in the {@code .fbs}
 * schema). A field's vtable slot is {@code 4 + 2 * id}; an absent field reads as the schema default.
 *
 * <p>flatbuffers-java trusts its input. Every vector read here is bounds-checked before anything is allocated,
 * so a truncated or corrupt file fails with a {@link CorruptFlatBufferException} naming the offending offset
 * instead of an {@link OutOfMemoryError}; {@link TfliteImporter} turns that into a clear model error.
 */
abstract class FlatTable extends Table {

    /** Points this view at the table starting at absolute byte {@code position} of {@code buffer}. */
    final void init(int position, ByteBuffer buffer) {
        if (position < 0 || position + 4 > buffer.limit()) {
            throw new CorruptFlatBufferException(
                    "table at byte " + position + " lies outside the " + buffer.limit() + "-byte file");
        }
        __reset(position, buffer);
    }

    /** Byte offset of field {@code id} from the table start, or 0 when the field is absent. */
    private int slot(int id) {
        return __offset(4 + 2 * id);
    }

    final boolean has(int id) {
        return slot(id) != 0;
    }

    final int int32(int id, int absent) {
        int o = slot(id);
        return o == 0 ? absent : bb.getInt(bb_pos + o);
    }

    final long uint32(int id, long absent) {
        int o = slot(id);
        return o == 0 ? absent : Integer.toUnsignedLong(bb.getInt(bb_pos + o));
    }

    final long int64(int id, long absent) {
        int o = slot(id);
        return o == 0 ? absent : bb.getLong(bb_pos + o);
    }

    final int int8(int id, int absent) {
        int o = slot(id);
        return o == 0 ? absent : bb.get(bb_pos + o);
    }

    final int uint8(int id, int absent) {
        int o = slot(id);
        return o == 0 ? absent : bb.get(bb_pos + o) & 0xff;
    }

    final boolean bool(int id, boolean absent) {
        int o = slot(id);
        return o == 0 ? absent : bb.get(bb_pos + o) != 0;
    }

    final float float32(int id, float absent) {
        int o = slot(id);
        return o == 0 ? absent : bb.getFloat(bb_pos + o);
    }

    final String string(int id) {
        int o = slot(id);
        if (o == 0) {
            return null;
        }
        vector(o, 1);
        try {
            return __string(bb_pos + o);
        } catch (IllegalArgumentException e) {
            // flatbuffers-java's UTF-8 decoder rejects malformed text with IllegalArgumentException.
            throw new CorruptFlatBufferException("a string at byte " + (bb_pos + o) + " is not valid UTF-8");
        }
    }

    /** The sub-table in field {@code id}, or {@code null} when absent. */
    final <T extends FlatTable> T table(int id, Supplier<T> view) {
        int o = slot(id);
        if (o == 0) {
            return null;
        }
        T t = view.get();
        t.init(__indirect(bb_pos + o), bb);
        return t;
    }

    /**
     * Number of elements of the vector in field {@code id}; 0 when absent. Checked against the file size (at least
     * one byte per element) so that callers may size arrays by it.
     */
    final int length(int id) {
        int o = slot(id);
        if (o == 0) {
            return 0;
        }
        vector(o, 1);
        return __vector_len(o);
    }

    /** Element {@code i} of the vector of tables in field {@code id}. */
    final <T extends FlatTable> T tableAt(int id, int i, Supplier<T> view) {
        int start = vector(slot(id), 4);
        T t = view.get();
        int element = start + 4 * i;
        t.init(element + bb.getInt(element), bb);
        return t;
    }

    final int[] int32s(int id) {
        int o = slot(id);
        if (o == 0) {
            return new int[0];
        }
        int start = vector(o, 4);
        int[] v = new int[__vector_len(o)];
        for (int i = 0; i < v.length; i++) {
            v[i] = bb.getInt(start + 4 * i);
        }
        return v;
    }

    final long[] int64s(int id) {
        int o = slot(id);
        if (o == 0) {
            return new long[0];
        }
        int start = vector(o, 8);
        long[] v = new long[__vector_len(o)];
        for (int i = 0; i < v.length; i++) {
            v[i] = bb.getLong(start + 8 * i);
        }
        return v;
    }

    final float[] float32s(int id) {
        int o = slot(id);
        if (o == 0) {
            return new float[0];
        }
        int start = vector(o, 4);
        float[] v = new float[__vector_len(o)];
        for (int i = 0; i < v.length; i++) {
            v[i] = bb.getFloat(start + 4 * i);
        }
        return v;
    }

    /** The {@code [ubyte]} vector in field {@code id} as a little-endian slice, or {@code null} when absent. */
    final ByteBuffer bytes(int id) {
        int o = slot(id);
        if (o == 0) {
            return null;
        }
        int start = vector(o, 1);
        return bb.slice(start, __vector_len(o)).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Start of the vector at slot offset {@code o}, after checking that all its elements lie inside the file. */
    private int vector(int o, int elementBytes) {
        if (o == 0) {
            throw new CorruptFlatBufferException("a required vector is absent");
        }
        int start = __vector(o);
        long len = Integer.toUnsignedLong(__vector_len(o));
        if (start < 0 || start + len * elementBytes > bb.limit()) {
            throw new CorruptFlatBufferException("a vector of " + len + " elements at byte " + start
                    + " runs past the end of the " + bb.limit() + "-byte file");
        }
        return start;
    }
}
