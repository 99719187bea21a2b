package io.tinyptq.zoo;

import io.tinyptq.api.TinyPtqException;
import io.tinyptq.api.model.Shape;
import io.tinyptq.api.options.NoOptions;
import io.tinyptq.api.spi.Dataset;
import io.tinyptq.api.spi.DatasetProvider;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The {@code synthetic} dataset: 12x12 grayscale images of four shapes, generated from a seed, so that a model
 * can be trained and quantized without any data file. Class 0: a horizontal bar, 1: a vertical bar, 2: a
 * diagonal, 3: a filled square; each at a random position and brightness, over Gaussian noise. Sample {@code i}
 * is drawn from its own generator ({@code seed}, {@code i}), so reading is random-access and needs no storage.
 *
 * <p>Descriptor ({@code key: value} lines, {@code #} comments): {@code layout: synthetic}, {@code count} (samples),
 * {@code seed}, and optionally {@code first} (index of the first sample, to carve disjoint splits from one
 * stream). Unknown keys fail naming the file, line and the known keys.
 */
public final class SyntheticShapes implements DatasetProvider<NoOptions> {
    static final int SIZE = 12;
    static final List<String> KEYS = List.of("layout", "count", "seed", "first");

    @Override
    public String name() {
        return "synthetic";
    }

    @Override
    public String description() {
        return "generated 12x12 images of four shapes (bars, diagonal, square) for demos and tests";
    }

    @Override
    public Class<NoOptions> optionsType() {
        return NoOptions.class;
    }

    @Override
    public NoOptions defaultOptions() {
        return NoOptions.INSTANCE;
    }

    @Override
    public Dataset open(Path descriptor, Path dataRoot, NoOptions options) {
        Map<String, String> keys = parse(descriptor);
        String name = descriptor.getFileName().toString().replaceFirst("\\.yaml$", "");
        return of(
                name,
                integer(keys, "count", descriptor),
                integer(keys, "seed", descriptor),
                keys.containsKey("first") ? integer(keys, "first", descriptor) : 0);
    }

    /** {@code count} samples starting at index {@code first} of the stream drawn from {@code seed}. */
    public static Dataset of(String name, int count, long seed, int first) {
        return new Dataset() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public int size() {
                return count;
            }

            @Override
            public Shape sampleShape() {
                return Shape.of(SIZE, SIZE, 1);
            }

            @Override
            public int numClasses() {
                return 4;
            }

            @Override
            public void read(int index, float[] dst, int offset) {
                draw(seed, first + index, dst, offset);
            }

            @Override
            public int label(int index) {
                return (int) Math.floorMod(mix(seed, first + index), 4L);
            }
        };
    }

    static long mix(long seed, long index) {
        long z = seed * 0x9E3779B97F4A7C15L + index;
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    static void draw(long seed, long index, float[] dst, int off) {
        int label = (int) Math.floorMod(mix(seed, index), 4L);
        SplittableRandom r = new SplittableRandom(mix(seed, index) ^ 0x5A17L);
        for (int i = 0; i < SIZE * SIZE; i++) {
            dst[off + i] = (float) (0.15 * gauss(r));
        }
        float v = (float) (0.7 + 0.6 * r.nextDouble());
        int a = r.nextInt(2, SIZE - 2);
        int b = r.nextInt(2, SIZE - 2);
        int len = r.nextInt(5, 9);
        for (int t = 0; t < len; t++) {
            switch (label) {
                case 0 -> put(dst, off, a, clamp(b - len / 2 + t), v);
                case 1 -> put(dst, off, clamp(a - len / 2 + t), b, v);
                case 2 -> put(dst, off, clamp(a - len / 2 + t), clamp(b - len / 2 + t), v);
                default -> {
                    for (int u = 0; u < 3; u++) {
                        if (t < 3) {
                            put(dst, off, clamp(a - 1 + t), clamp(b - 1 + u), v);
                        }
                    }
                }
            }
        }
    }

    static int clamp(int x) {
        return Math.min(Math.max(x, 0), SIZE - 1);
    }

    static void put(float[] dst, int off, int y, int x, float v) {
        dst[off + y * SIZE + x] += v;
    }

    static double gauss(SplittableRandom r) {
        double u = 1 - r.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r.nextDouble());
    }

    static Map<String, String> parse(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file);
        } catch (IOException e) {
            throw new TinyPtqException("cannot read dataset descriptor " + file + ": " + e.getMessage(), e);
        }
        Map<String, String> keys = new LinkedHashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).replaceFirst("#.*", "").strip();
            if (line.isEmpty()) {
                continue;
            }
            int colon = line.indexOf(':');
            String key = colon < 0 ? line : line.substring(0, colon).strip();
            if (colon < 0 || !KEYS.contains(key)) {
                throw new TinyPtqException(file + ":" + (i + 1) + ": "
                        + (colon < 0 ? "expected 'key: value'" : "unknown key '" + key + "'")
                        + "; known keys of a synthetic descriptor: " + KEYS);
            }
            keys.put(key, line.substring(colon + 1).strip());
        }
        return keys;
    }

    static int integer(Map<String, String> keys, String key, Path file) {
        String v = keys.get(key);
        if (v == null) {
            throw new TinyPtqException(file + ": missing key '" + key + "' (an integer)");
        }
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new TinyPtqException(file + ": key '" + key + "' must be an integer, found '" + v + "'");
        }
    }
}
