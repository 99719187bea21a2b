package io.tinyptq.kernel.data;

import io.tinyptq.api.spi.Dataset;

/** The samples of a dataset at the given indices, in that order ({@code label} says which part it is). */
public record Subset(Dataset base, int[] indices, String label) implements DatasetView {
    @Override
    public String name() {
        return base.name() + " (" + label + ")";
    }

    @Override
    public int size() {
        return indices.length;
    }

    @Override
    public void read(int index, float[] dst, int offset) {
        base.read(indices[index], dst, offset);
    }

    @Override
    public int label(int index) {
        return base.label(indices[index]);
    }

    @Override
    public int group(int index) {
        return base.group(indices[index]);
    }
}
