package io.tinyptq.plugins.datasets;

import io.tinyptq.api.TinyPtqException;
import io.tinyptq.api.model.Shape;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * Layout {@code uci-har}: a split folder of the original UCI-HAR dataset ({@code UCI HAR Dataset/test}). Its
 * {@code Inertial Signals/<signal>_<split>.txt} files hold one window per line, as many whitespace-separated
 * floats as the window has time steps; {@code y_<split>.txt} holds the activity 1..6 of each window, read as
 * label 0..5. A sample is {@code [timesteps, 9]}, time-major, the channels in this order: body_acc x/y/z,
 * body_gyro x/y/z, total_acc x/y/z (the order of the paper's HAR CNN input and of {@code ../shared/data/har}).
 *
 * <pre>
 *   layout: uci-har
 *   folder: UCI HAR Dataset/test
 *   shape: [128, 9]
 *   classes: 6
 * </pre>
 * The split name in the file names defaults to the folder's name; {@code split: test} overrides it. The whole
 * split is read into memory when opened (the test split is 2,947 windows, 13.6 MB as float32).
 */
public final class UciHarProvider extends LayoutProvider {
    /** Channel order of a sample. */
    static final List<String> SIGNALS = List.of(
            "body_acc_x",
            "body_acc_y",
            "body_acc_z",
            "body_gyro_x",
            "body_gyro_y",
            "body_gyro_z",
            "total_acc_x",
            "total_acc_y",
            "total_acc_z");

    @Override
    public String name() {
        return "uci-har";
    }

    @Override
    public String description() {
        return "the original UCI-HAR split folder: 'Inertial Signals/*_<split>.txt' (9 channels) and y_<split>.txt";
    }

    @Override
    Set<String> layoutKeys() {
        return Set.of("folder", "split");
    }

    @Override
    Source source(Descriptor d, Shape shape, DataFiles files, int count) {
        Path folder = files.resolve(d, "folder");
        String split = d.string("split", folder.getFileName().toString());
        if (!split.matches("[A-Za-z0-9_-]+")) {
            // A part of file names in the folder: never a path of its own.
            throw new TinyPtqException(d.where("split") + ": split '" + split + "' must be a name of letters, digits,"
                    + " '_' and '-' (the <split> of y_<split>.txt), e.g. test");
        }
        if (shape.rank() != 2 || shape.dim(1) != SIGNALS.size()) {
            throw new TinyPtqException(d.where("shape") + ": uci-har samples have shape [timesteps, " + SIGNALS.size()
                    + "], found " + shape);
        }
        int steps = shape.dim(0);
        int[] labels = readLabels(folder.resolve("y_" + split + ".txt"));
        int records = labels.length;
        if (count >= 0 && records != count) {
            throw new TinyPtqException(folder.resolve("y_" + split + ".txt") + " holds " + records + " labels but "
                    + d.where("count") + " says count: " + count);
        }
        float[] data = new float[records * steps * SIGNALS.size()];
        for (int ch = 0; ch < SIGNALS.size(); ch++) {
            readSignal(
                    folder.resolve("Inertial Signals").resolve(SIGNALS.get(ch) + "_" + split + ".txt"),
                    ch,
                    steps,
                    records,
                    data);
        }
        int sample = steps * SIGNALS.size();
        return new Source() {
            @Override
            public int records() {
                return records;
            }

            @Override
            public void read(int record, float[] dst, int offset) {
                System.arraycopy(data, record * sample, dst, offset, sample);
            }

            @Override
            public int label(int record) {
                return labels[record];
            }

            @Override
            public String describe(int record) {
                return folder.resolve("y_" + split + ".txt") + " line " + (record + 1);
            }
        };
    }

    private static int[] readLabels(Path file) {
        List<String> lines = lines(file);
        int[] labels = new int[lines.size()];
        for (int i = 0; i < labels.length; i++) {
            String s = lines.get(i).strip();
            try {
                // UCI-HAR numbers activities from 1.
                labels[i] = Integer.parseInt(s) - 1;
            } catch (NumberFormatException e) {
                throw new TinyPtqException(file + ":" + (i + 1) + ": '" + s + "' is not an activity number 1..6");
            }
        }
        return labels;
    }

    /** Reads one signal file into channel {@code ch} of every sample: {@code data[(r*steps + t)*9 + ch]}. */
    private static void readSignal(Path file, int ch, int steps, int records, float[] data) {
        int channels = SIGNALS.size();
        int line = 0;
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.US_ASCII)) {
            for (String text = in.readLine(); text != null; text = in.readLine()) {
                if (text.isBlank()) {
                    continue;
                }
                if (line >= records) {
                    throw new TinyPtqException(
                            file + " holds more than " + records + " windows, the number of labels" + " in y_*.txt");
                }
                String[] values = text.strip().split("\\s+");
                if (values.length != steps) {
                    throw new TinyPtqException(file + ":" + (line + 1) + ": " + values.length + " values, expected "
                            + steps + " (the descriptor's shape[0] time steps)");
                }
                for (int t = 0; t < steps; t++) {
                    try {
                        data[(line * steps + t) * channels + ch] = Float.parseFloat(values[t]);
                    } catch (NumberFormatException e) {
                        throw new TinyPtqException(file + ":" + (line + 1) + ": '" + values[t] + "' is not a number");
                    }
                }
                line++;
            }
        } catch (NoSuchFileException e) {
            throw new TinyPtqException("UCI-HAR signal file " + file + " does not exist");
        } catch (IOException e) {
            throw new TinyPtqException("cannot read " + file + ": " + e.getMessage(), e);
        }
        if (line != records) {
            throw new TinyPtqException(file + " holds " + line + " windows but y_*.txt holds " + records + " labels");
        }
    }

    private static List<String> lines(Path file) {
        try {
            return Files.readAllLines(file, StandardCharsets.US_ASCII).stream()
                    .filter(s -> !s.isBlank())
                    .toList();
        } catch (NoSuchFileException e) {
            throw new TinyPtqException("UCI-HAR label file " + file + " does not exist");
        } catch (IOException e) {
            throw new TinyPtqException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }
}
