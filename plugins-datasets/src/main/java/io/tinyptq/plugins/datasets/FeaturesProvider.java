package io.tinyptq.plugins.datasets;

import io.tinyptq.api.TinyPtqException;
import io.tinyptq.api.model.Shape;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Set;

/**
 * Layout {@code features}: samples back to back in one file ({@code shape} values of {@code dtype}, {@code f32}
 * by default) and their labels, one {@code u8} each, in another. This is the layout of the keyword-spotting MFCCs
 * ({@code kws/test_mfcc_f32.bin} with {@code kws/test_labels_u8.bin}) and of the HAR windows.
 *
 * <pre>
 *   layout: features
 *   file: kws/test_mfcc_f32.bin
 *   labels: kws/test_labels_u8.bin
 *   shape: [49, 10, 1]
 *   classes: 12
 * </pre>
 */
public final class FeaturesProvider extends LayoutProvider {

    @Override
    public String name() {
        return "features";
    }

    @Override
    public String description() {
        return "samples back to back (f32/u8/i8) plus a u8 label file (keyword-spotting MFCCs, HAR windows)";
    }

    @Override
    Set<String> layoutKeys() {
        return Set.of("file", "labels", "dtype");
    }

    @Override
    Source source(Descriptor d, Shape shape, DataFiles files, int count) {
        Path file = files.resolve(d, "file");
        Path labelFile = files.resolve(d, "labels");
        ElementType type = ElementType.of(d, "dtype", ElementType.F32);
        ByteBuffer data = DataFiles.map(file);
        ByteBuffer labels = DataFiles.map(labelFile);
        int sample = shape.size();
        int sampleBytes = sample * type.bytes;
        int records =
                DataFiles.count(file, data.capacity(), sampleBytes, count, "samples (" + shape + " " + type + ")");
        if (labels.capacity() != records) {
            throw new TinyPtqException("label file " + labelFile + " holds " + labels.capacity() + " bytes but " + file
                    + " holds " + records + " samples, which need one u8 label each (" + records + " bytes)");
        }
        return new Source() {
            @Override
            public int records() {
                return records;
            }

            @Override
            public void read(int record, float[] dst, int offset) {
                type.read(data, record * sampleBytes, sample, dst, offset);
            }

            @Override
            public int label(int record) {
                return labels.get(record) & 0xff;
            }

            @Override
            public String describe(int record) {
                return labelFile + " record " + record;
            }
        };
    }
}
