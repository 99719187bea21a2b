package io.tinyptq.plugins.datasets;

import io.tinyptq.api.model.Shape;
import io.tinyptq.api.spi.Dataset;
import java.util.List;
import java.util.Objects;

/**
 * The dataset a descriptor describes: the selected records of a {@link Source}, each value mapped to
 * {@code (raw - offset) / divisor} in float32 (the model's input preprocessing, e.g. {@code x/255}).
 */
final class DescriptorDataset implements Dataset {
    private final String name;
    private final Shape shape;
    private final int classes;
    private final Source source;
    /** Record of each sample, or {@code null} for all records in file order. */
    private final int[] records;

    private final float offset;
    private final float divisor;
    private final List<String> classNames;
    /** Group of each record (file order), or {@code null}. */
    private final int[] groups;

    DescriptorDataset(
            String name,
            Shape shape,
            int classes,
            Source source,
            int[] records,
            float offset,
            float divisor,
            List<String> classNames,
            int[] groups) {
        this.classNames = List.copyOf(classNames);
        this.groups = groups;
        this.name = name;
        this.shape = shape;
        this.classes = classes;
        this.source = source;
        this.records = records;
        this.offset = offset;
        this.divisor = divisor;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int size() {
        return records == null ? source.records() : records.length;
    }

    @Override
    public Shape sampleShape() {
        return shape;
    }

    @Override
    public int numClasses() {
        return classes;
    }

    private int record(int index) {
        Objects.checkIndex(index, size());
        return records == null ? index : records[index];
    }

    @Override
    public void read(int index, float[] dst, int dstOffset) {
        source.read(record(index), dst, dstOffset);
        if (offset != 0f || divisor != 1f) {
            int n = shape.size();
            for (int i = dstOffset; i < dstOffset + n; i++) {
                dst[i] = (dst[i] - offset) / divisor;
            }
        }
    }

    @Override
    public int label(int index) {
        return source.label(record(index));
    }

    @Override
    public List<String> classNames() {
        return classNames;
    }

    @Override
    public boolean hasGroups() {
        return groups != null;
    }

    @Override
    public int group(int index) {
        return groups == null ? -1 : groups[record(index)];
    }

    @Override
    public String toString() {
        return "Dataset[" + name + ", " + size() + " samples of " + shape + ", " + classes + " classes]";
    }
}
