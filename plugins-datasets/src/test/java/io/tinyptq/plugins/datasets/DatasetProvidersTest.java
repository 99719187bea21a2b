package io.tinyptq.plugins.datasets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyptq.api.TinyPtqException;
import io.tinyptq.api.model.Shape;
import io.tinyptq.api.options.NoOptions;
import io.tinyptq.api.spi.Dataset;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetProvidersTest {
    @TempDir
    Path root;

    final RecordsProvider records = new RecordsProvider();
    final FeaturesProvider features = new FeaturesProvider();
    final UciHarProvider har = new UciHarProvider();

    /** Five records of a 2x2x3 u8 image: record r has label r % 3 and pixel i = 10*r + i. */
    Path recordsFile() throws Exception {
        byte[] b = new byte[5 * 13];
        for (int r = 0; r < 5; r++) {
            b[r * 13] = (byte) (r % 3);
            for (int i = 0; i < 12; i++) {
                b[r * 13 + 1 + i] = (byte) (10 * r + i + 200);
            }
        }
        return Files.write(root.resolve("images.bin"), b);
    }

    Path descriptor(String name, String text) throws Exception {
        Path d = Files.createDirectories(root.resolve("datasets")).resolve(name + ".yaml");
        return Files.writeString(d, text);
    }

    @Test
    void recordsGiveLabelsAndPixelsInHwcOrderWithTheDescriptorsPreprocessing() throws Exception {
        recordsFile();
        Path d = descriptor("tiny-images", """
                # five tiny images
                layout: records
                file: images.bin     # [label u8][2x2x3 u8]
                dtype: u8
                count: 5
                shape: [2, 2, 3]
                classes: 3
                label_names: [a, "b", 'c']
                offset: 200
                divisor: 2
                """);
        Dataset ds = records.open(d, root, NoOptions.INSTANCE);
        assertEquals("tiny-images", ds.name());
        assertEquals(5, ds.size());
        assertEquals(Shape.of(2, 2, 3), ds.sampleShape());
        assertEquals(3, ds.numClasses());
        float[] x = new float[1 + 12];
        ds.read(3, x, 1);
        for (int i = 0; i < 12; i++) {
            assertEquals((10 * 3 + i) / 2f, x[1 + i], 0f, "pixel " + i);
        }
        assertEquals(0, ds.label(3));
        assertEquals(1, ds.label(4));
        assertEquals(java.util.List.of("a", "b", "c"), ds.classNames());
        assertEquals(false, ds.hasGroups());
    }

    /**
     * A descriptor reads files under its data root only: '../' out of it, an absolute path elsewhere and a symbolic
     * link pointing out are refused naming the key and the root, and nothing of the outside file is echoed.
     */
    @Test
    void filesOutsideTheDataRootAreRefused() throws Exception {
        Path data = Files.createDirectories(root.resolve("data"));
        Path outside = Files.write(root.resolve("secret.bin"), new byte[5 * 13]);
        Files.writeString(root.resolve("secret.txt"), "password-line\n");
        Files.createSymbolicLink(data.resolve("link.bin"), outside);
        String[] escapes = {"../secret.bin", outside.toString(), "link.bin"};
        for (String file : escapes) {
            Path d = descriptor(
                    "escape",
                    "layout: records\nfile: " + file + "\ndtype: u8\ncount: 5\nshape: [2, 2, 3]\n" + "classes: 3\n");
            String m = assertThrows(TinyPtqException.class, () -> records.open(d, data, NoOptions.INSTANCE))
                    .getMessage();
            assertTrue(
                    m.contains("file '" + file + "' is ") && m.contains("outside the data root " + data.toRealPath()),
                    m);
        }
        Files.write(data.resolve("images.bin"), new byte[5 * 13]);
        Path d = descriptor(
                "escape",
                "layout: records\nfile: images.bin\nindices: ../secret.txt\ndtype: u8\n"
                        + "count: 5\nshape: [2, 2, 3]\nclasses: 3\n");
        String m = assertThrows(TinyPtqException.class, () -> records.open(d, data, NoOptions.INSTANCE))
                .getMessage();
        assertTrue(m.contains("outside the data root") && !m.contains("password-line"), m);
    }

    @Test
    void aShapeTooLargeForOneSampleIsNamed() throws Exception {
        recordsFile();
        Path d = descriptor(
                "huge", "layout: records\nfile: images.bin\ndtype: u8\nshape: [99999, 99999, 3]\n" + "classes: 3\n");
        String m = assertThrows(TinyPtqException.class, () -> records.open(d, root, NoOptions.INSTANCE))
                .getMessage();
        assertTrue(m.endsWith("shape [99999, 99999, 3] has more than 2147483647 values per sample"), m);
    }

    @Test
    void groupFilesGiveEachSampleItsGroupAndMustMatchTheRecordCount() throws Exception {
        Files.write(root.resolve("x.bin"), new byte[3 * 4 * 4]);
        Files.write(root.resolve("y.bin"), new byte[] {2, 0, 1});
        Path groups = Files.write(root.resolve("subjects.bin"), new byte[] {7, 7, (byte) 200});
        Path d = descriptor(
                "grouped",
                "layout: features\nfile: x.bin\nlabels: y.bin\ngroups: subjects.bin\n"
                        + "shape: [2, 2, 1]\nclasses: 3\nexclude: 0..1\n");
        Dataset ds = features.open(d, root, NoOptions.INSTANCE);
        assertEquals(true, ds.hasGroups());
        assertEquals(7, ds.group(0));
        assertEquals(200, ds.group(1));
        Files.write(groups, new byte[] {7, 7});
        var e = assertThrows(TinyPtqException.class, () -> features.open(d, root, NoOptions.INSTANCE));
        assertEquals(
                d + ":4: group file " + groups + " holds 2 bytes but the dataset has 3 records, which need one u8"
                        + " group each",
                e.getMessage());
    }

    @Test
    void indexFilesRangesAndExclusionsSelectRecords() throws Exception {
        recordsFile();
        Files.writeString(root.resolve("pick.csv"), "test_bin_index,name,label\n4,e,1\n\n1,b,1\n");
        Path d = descriptor(
                "picked", "layout: records\nfile: images.bin\nshape: [2, 2, 3]\nclasses: 3\n" + "indices: pick.csv\n");
        Dataset ds = records.open(d, root, NoOptions.INSTANCE);
        assertEquals(2, ds.size());
        float[] x = new float[12];
        ds.read(0, x, 0);
        assertEquals((byte) (40 + 200) & 0xff, x[0], 0f);
        assertEquals(1, ds.label(1));

        Path rest = descriptor(
                "rest", "layout: records\nfile: images.bin\nshape: [2, 2, 3]\nclasses: 3\n" + "exclude: 0..2\n");
        Dataset r = records.open(rest, root, NoOptions.INSTANCE);
        assertEquals(3, r.size());
        assertEquals(2, r.label(0));

        Path bad = descriptor(
                "bad-index", "layout: records\nfile: images.bin\nshape: [2, 2, 3]\nclasses: 3\n" + "indices: 0..9\n");
        var e = assertThrows(TinyPtqException.class, () -> records.open(bad, root, NoOptions.INSTANCE));
        assertEquals(bad + ":5: range 0..9 must satisfy start <= end <= 5 (the number of records)", e.getMessage());
        Path huge = descriptor(
                "huge-range",
                "layout: records\nfile: images.bin\nshape: [2, 2, 3]\nclasses: 3\n"
                        + "indices: 0..99999999999999999999\n");
        e = assertThrows(TinyPtqException.class, () -> records.open(huge, root, NoOptions.INSTANCE));
        assertEquals(
                huge + ":5: range 0..99999999999999999999 must satisfy start <= end <= 5 (the number of records)",
                e.getMessage());
    }

    @Test
    void misSizedAndTruncatedFilesGiveExpectedAndActualSizes() throws Exception {
        Path file = recordsFile();
        Files.write(file, java.util.Arrays.copyOf(Files.readAllBytes(file), 60));
        Path d = descriptor("cut", "layout: records\nfile: images.bin\nshape: [2, 2, 3]\nclasses: 3\n");
        var e = assertThrows(TinyPtqException.class, () -> records.open(d, root, NoOptions.INSTANCE));
        assertEquals(
                "data file " + file + " holds 60 bytes, not a whole number of 13-byte records ([label u8][[2,2,3]"
                        + " u8]) (4 whole, 8 bytes left over)",
                e.getMessage());

        Path counted = descriptor(
                "counted", "layout: records\nfile: images.bin\nshape: [2, 2, 3]\nclasses: 3\n" + "count: 5\n");
        e = assertThrows(TinyPtqException.class, () -> records.open(counted, root, NoOptions.INSTANCE));
        assertEquals(
                "data file " + file + " holds 60 bytes but 5 records ([label u8][[2,2,3] u8]) of 13 bytes need 65"
                        + " (truncated?)",
                e.getMessage());
    }

    @Test
    void featuresPairSamplesWithALabelFileOfTheSameLength() throws Exception {
        ByteBuffer f = ByteBuffer.allocate(3 * 4 * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 12; i++) {
            f.putFloat(i * 0.5f - 1f);
        }
        Files.write(root.resolve("x.bin"), f.array());
        Path labels = Files.write(root.resolve("y.bin"), new byte[] {2, 0, 1});
        Path d = descriptor("feat", "layout: features\nfile: x.bin\nlabels: y.bin\nshape: [2, 2, 1]\nclasses: 3\n");
        Dataset ds = features.open(d, root, NoOptions.INSTANCE);
        assertEquals(3, ds.size());
        float[] x = new float[4];
        ds.read(2, x, 0);
        assertArrayEquals(new float[] {3f, 3.5f, 4f, 4.5f}, x);
        assertEquals(2, ds.label(0));

        Files.write(labels, new byte[] {2, 0});
        var e = assertThrows(TinyPtqException.class, () -> features.open(d, root, NoOptions.INSTANCE));
        assertEquals(
                "label file " + labels + " holds 2 bytes but " + root.resolve("x.bin") + " holds 3 samples, which"
                        + " need one u8 label each (3 bytes)",
                e.getMessage());

        Files.write(labels, new byte[] {2, 0, 7});
        e = assertThrows(TinyPtqException.class, () -> features.open(d, root, NoOptions.INSTANCE));
        assertEquals(labels + " record 2 has label 7, outside the 3 classes " + d + ":5 declares", e.getMessage());
    }

    @Test
    void descriptorsAreStrict() throws Exception {
        recordsFile();
        Path typo = descriptor("typo", "layout: records\nfile: images.bin\nshape: [2, 2, 3]\nclases: 3\n");
        var e = assertThrows(TinyPtqException.class, () -> records.open(typo, root, NoOptions.INSTANCE));
        assertEquals(
                typo + ":4: unknown key 'clases' for layout 'records'; known keys: classes, count, divisor, dtype,"
                        + " exclude, file, groups, indices, label_names, layout, name, offset, shape",
                e.getMessage());

        Path nested = descriptor("nested", "layout: records\nfile:\n  path: images.bin\n");
        e = assertThrows(TinyPtqException.class, () -> records.open(nested, root, NoOptions.INSTANCE));
        assertTrue(
                e.getMessage().startsWith(nested + ":3: expected 'key: value' with the key in column 0"),
                e.getMessage());

        Path twice = descriptor("twice", "layout: records\nclasses: 3\nclasses: 4\n");
        e = assertThrows(TinyPtqException.class, () -> records.open(twice, root, NoOptions.INSTANCE));
        assertEquals(twice + ":3: key 'classes' is given twice (first on line 2)", e.getMessage());

        Path missing = descriptor("missing", "layout: records\nfile: images.bin\nclasses: 3\n");
        e = assertThrows(TinyPtqException.class, () -> records.open(missing, root, NoOptions.INSTANCE));
        assertEquals(missing + ": required key 'shape' is missing", e.getMessage());

        Path wrongLayout = descriptor("wrong", "layout: features\n");
        e = assertThrows(TinyPtqException.class, () -> records.open(wrongLayout, root, NoOptions.INSTANCE));
        assertEquals(
                wrongLayout + ":1: layout 'features' cannot be opened by the 'records' dataset provider",
                e.getMessage());

        Path absent = descriptor("absent", "layout: records\nfile: nowhere.bin\nshape: [1]\nclasses: 2\n");
        e = assertThrows(TinyPtqException.class, () -> records.open(absent, root, NoOptions.INSTANCE));
        assertEquals(
                absent + ":2: file 'nowhere.bin' does not exist: looked for " + root.resolve("nowhere.bin")
                        + " (relative paths are under the data root " + root + ")",
                e.getMessage());
    }

    /** A UCI-HAR split folder with {@code windows} windows of {@code steps} steps; value = signal*100 + w*10 + t. */
    Path harFolder(int windows, int steps) throws Exception {
        Path split = Files.createDirectories(root.resolve("UCI HAR Dataset/test/Inertial Signals"))
                .getParent();
        for (int s = 0; s < UciHarProvider.SIGNALS.size(); s++) {
            StringBuilder text = new StringBuilder();
            for (int w = 0; w < windows; w++) {
                for (int t = 0; t < steps; t++) {
                    // The original files: two leading spaces, scientific notation.
                    text.append(String.format(Locale.ROOT, "  %.7e", s * 100f + w * 10f + t));
                }
                text.append('\n');
            }
            Files.writeString(
                    split.resolve("Inertial Signals").resolve(UciHarProvider.SIGNALS.get(s) + "_test.txt"), text);
        }
        StringBuilder y = new StringBuilder();
        for (int w = 0; w < windows; w++) {
            y.append(w % 6 + 1).append('\n');
        }
        Files.writeString(split.resolve("y_test.txt"), y);
        return split;
    }

    @Test
    void uciHarFoldersBecomeTimeMajorNineChannelWindows() throws Exception {
        harFolder(3, 4);
        Path d = descriptor("har", "layout: uci-har\nfolder: UCI HAR Dataset/test\nshape: [4, 9]\nclasses: 6\n");
        Dataset ds = har.open(d, root, NoOptions.INSTANCE);
        assertEquals(3, ds.size());
        assertEquals(Shape.of(4, 9), ds.sampleShape());
        float[] x = new float[36];
        ds.read(2, x, 0);
        for (int t = 0; t < 4; t++) {
            for (int s = 0; s < 9; s++) {
                assertEquals(s * 100f + 20f + t, x[t * 9 + s], 1e-3f, "step " + t + " signal " + s);
            }
        }
        assertEquals(2, ds.label(2), "activity 3 is label 2");
    }

    @Test
    void uciHarLinesOfTheWrongLengthAreReportedWithFileAndLine() throws Exception {
        Path split = harFolder(3, 4);
        Path gyro = split.resolve("Inertial Signals/body_gyro_y_test.txt");
        Files.writeString(gyro, "1 2 3 4\n1 2 3\n1 2 3 4\n");
        Path d = descriptor("har", "layout: uci-har\nfolder: UCI HAR Dataset/test\nshape: [4, 9]\nclasses: 6\n");
        var e = assertThrows(TinyPtqException.class, () -> har.open(d, root, NoOptions.INSTANCE));
        assertEquals(gyro + ":2: 3 values, expected 4 (the descriptor's shape[0] time steps)", e.getMessage());

        Files.writeString(gyro, "1 2 3 4\n1 2 3 4\n");
        e = assertThrows(TinyPtqException.class, () -> har.open(d, root, NoOptions.INSTANCE));
        assertEquals(gyro + " holds 2 windows but y_*.txt holds 3 labels", e.getMessage());
    }
}
