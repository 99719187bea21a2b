package io.tinyptq.api.spi;

import io.tinyptq.api.model.Shape;

/** Labelled samples, already preprocessed for a model, read by index. Thread-safe for reading. */
public interface Dataset {
    String name();

    int size();

    Shape sampleShape();

    int numClasses();

    /** Writes sample {@code index} ({@code sampleShape().size()} values) into {@code dst} at {@code offset}. */
    void read(int index, float[] dst, int offset);

    int label(int index);
}
