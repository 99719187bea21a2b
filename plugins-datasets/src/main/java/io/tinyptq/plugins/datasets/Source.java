package io.tinyptq.plugins.datasets;

/** The records of a storage layout, in file order, before index selection and normalization. Thread-safe reads. */
interface Source {
    int records();

    /** Writes record {@code record}'s raw values (as stored, widened to float) at {@code dst[offset..]}. */
    void read(int record, float[] dst, int offset);

    int label(int record);

    /** Where record {@code record} lives, for messages ({@code test.bin record 17}). */
    String describe(int record);
}
