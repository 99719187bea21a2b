package io.tinyptq.kernel.data;

import io.tinyptq.api.model.Shape;
import io.tinyptq.api.spi.Dataset;
import java.util.List;

/** A dataset seen through another one: everything it does not change is the base dataset's. */
public interface DatasetView extends Dataset {
    Dataset base();

    @Override
    default String name() {
        return base().name();
    }

    @Override
    default int size() {
        return base().size();
    }

    @Override
    default Shape sampleShape() {
        return base().sampleShape();
    }

    @Override
    default int numClasses() {
        return base().numClasses();
    }

    @Override
    default void read(int index, float[] dst, int offset) {
        base().read(index, dst, offset);
    }

    @Override
    default int label(int index) {
        return base().label(index);
    }

    @Override
    default List<String> classNames() {
        return base().classNames();
    }

    @Override
    default boolean hasGroups() {
        return base().hasGroups();
    }

    @Override
    default int group(int index) {
        return base().group(index);
    }
}
