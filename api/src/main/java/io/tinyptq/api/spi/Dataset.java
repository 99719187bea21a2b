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

    /** The class names, indexed by label, or an empty list when the dataset does not name its classes. */
    default java.util.List<String> classNames() {
        return java.util.List.of();
    }

    /** Whether samples carry a {@link #group}. */
    default boolean hasGroups() {
        return false;
    }

    /**
     * The group sample {@code index} belongs to (e.g. the subject who recorded it), or -1 without groups. Samples
     * of one group are correlated, so a validation split should keep each group on one side.
     */
    default int group(int index) {
        return -1;
    }
}
