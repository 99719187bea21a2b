package io.tinyptq.plugins.datasets;

import io.tinyptq.api.model.Shape;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Set;

/**
 * Layout {@code records}: one file of fixed-size records {@code [label u8][sample]}, the sample being
 * {@code shape} values of {@code dtype} ({@code u8} by default) in row-major order (HWC for images). This is the
 * layout of {@code cifar10/test.bin} (3,073-byte records) and {@code vww/vww01.bin} (27,649 bytes).
 *
 * <pre>
 *   layout: records
 *   file: cifar10/test.bin
 *   dtype: u8
 *   shape: [32, 32, 3]
 *   classes: 10
 * </pre>
 */
public final class RecordsProvider extends LayoutProvider {

    @Override
    public String name() {
        return "records";
    }

    @Override
    public String description() {
        return "fixed-size records [label u8][sample as u8/i8/f32] in one file (CIFAR-10, VWW)";
    }

    @Override
    Set<String> layoutKeys() {
        return Set.of("file", "dtype");
    }

    @Override
    Source source(Descriptor d, Shape shape, DataFiles files, int count) {
        Path file = files.resolve(d, "file");
        ElementType type = ElementType.of(d, "dtype", ElementType.U8);
        ByteBuffer data = DataFiles.map(file);
        int sample = shape.size();
        int recordBytes = 1 + sample * type.bytes;
        int records = DataFiles.count(
                file, data.capacity(), recordBytes, count, "records ([label u8][" + shape + " " + type + "])");
        return new Source() {
            @Override
            public int records() {
                return records;
            }

            @Override
            public void read(int record, float[] dst, int offset) {
                type.read(data, record * recordBytes + 1, sample, dst, offset);
            }

            @Override
            public int label(int record) {
                return data.get(record * recordBytes) & 0xff;
            }

            @Override
            public String describe(int record) {
                return file + " record " + record;
            }
        };
    }
}
