package io.tinyptq.plugins.datasets;

import io.tinyptq.api.TinyPtqException;
import io.tinyptq.api.model.Shape;
import io.tinyptq.api.options.NoOptions;
import io.tinyptq.api.spi.Dataset;
import io.tinyptq.api.spi.DatasetProvider;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;

/**
 * What every descriptor layout shares. The descriptor's {@code layout} key names the provider that opens it; the
 * keys every layout accepts are:
 * <ul>
 *   <li>{@code layout} (required): the provider name;</li>
 *   <li>{@code name}: the dataset's name (default: the descriptor's file name without {@code .yaml});</li>
 *   <li>{@code shape} (required): the per-sample shape fed to the model, e.g. {@code [32, 32, 3]};</li>
 *   <li>{@code classes} (required) and {@code label_names} (a list of that many names, for readers);</li>
 *   <li>{@code count}: the number of records the files must hold (checked against their sizes);</li>
 *   <li>{@code indices}, {@code exclude}: keep only / leave out these records ({@link IndexList});</li>
 *   <li>{@code offset}, {@code divisor}: the model's input preprocessing, {@code x = (raw - offset) / divisor}
 *       in float32; the defaults 0 and 1 feed raw values (CIFAR-10 pixels 0..255 for ResNet-8), {@code divisor:
 *       255} gives MobileNet's {@code pixel/255}.</li>
 *   <li>{@code groups}: a file of one u8 group id per record (HAR's subject of each window), so that training
 *       can hold out whole groups for validation ({@link Dataset#group}).</li>
 * </ul>
 * Relative paths are resolved against the data root passed to {@link #open}, or the descriptor's folder when it
 * is {@code null}.
 */
abstract class LayoutProvider implements DatasetProvider<NoOptions> {
    static final Set<String> COMMON_KEYS = Set.of(
            "layout",
            "name",
            "shape",
            "classes",
            "label_names",
            "count",
            "indices",
            "exclude",
            "offset",
            "divisor",
            "groups");

    /** The keys this layout adds to {@link #COMMON_KEYS}. */
    abstract Set<String> layoutKeys();

    /**
     * The records of this layout, with file sizes checked against {@code shape} and, when {@code count >= 0}, that
     * record count.
     */
    abstract Source source(Descriptor d, Shape shape, DataFiles files, int count);

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
        Descriptor d = Descriptor.read(descriptor);
        String layout = d.string("layout");
        if (!layout.equals(name())) {
            throw new TinyPtqException(d.where("layout") + ": layout '" + layout + "' cannot be opened by the '"
                    + name() + "' dataset provider");
        }
        Set<String> known = new HashSet<>(COMMON_KEYS);
        known.addAll(layoutKeys());
        d.requireOnly(known, layout);

        String fileName = descriptor.getFileName().toString();
        String name = d.string("name", fileName.replaceFirst("\\.ya?ml$", ""));
        int[] dims = d.integers("shape");
        if (dims.length == 0 || Arrays.stream(dims).anyMatch(x -> x <= 0)) {
            throw new TinyPtqException(d.where("shape") + ": shape " + Arrays.toString(dims)
                    + " needs at least one dimension, all positive");
        }
        long elements = 1;
        for (int x : dims) {
            elements *= x; // both factors are below 2^31: the long cannot overflow before the check
            if (elements > Integer.MAX_VALUE) {
                throw new TinyPtqException(d.where("shape") + ": shape " + Arrays.toString(dims) + " has more than "
                        + Integer.MAX_VALUE + " values per sample");
            }
        }
        Shape shape = Shape.of(dims);
        int classes = d.integer("classes", 1);
        if (d.has("label_names") && d.list("label_names").size() != classes) {
            throw new TinyPtqException(d.where("label_names") + ": "
                    + d.list("label_names").size() + " label names for " + classes + " classes");
        }
        int count = d.has("count") ? d.integer("count", 0) : -1;
        float offset = d.number("offset", 0f);
        float divisor = d.number("divisor", 1f);
        if (divisor == 0f) {
            throw new TinyPtqException(d.where("divisor") + ": divisor must not be 0");
        }

        Path root = dataRoot != null ? dataRoot : descriptor.toAbsolutePath().getParent();
        DataFiles files = new DataFiles(root);
        Source source = source(d, shape, files, count);
        int[] records = null;
        if (d.has("indices")) {
            records = IndexList.read(d, "indices", source.records(), files);
        }
        if (d.has("exclude")) {
            Set<Integer> drop = new HashSet<>();
            for (int r : IndexList.read(d, "exclude", source.records(), files)) {
                drop.add(r);
            }
            int[] from = records != null
                    ? records
                    : IntStream.range(0, source.records()).toArray();
            records = Arrays.stream(from).filter(r -> !drop.contains(r)).toArray();
        }
        int n = records == null ? source.records() : records.length;
        for (int i = 0; i < n; i++) {
            int r = records == null ? i : records[i];
            int label = source.label(r);
            if (label < 0 || label >= classes) {
                throw new TinyPtqException(source.describe(r) + " has label " + label + ", outside the " + classes
                        + " classes " + d.where("classes") + " declares");
            }
        }
        int[] groups = null;
        if (d.has("groups")) {
            Path groupFile = files.resolve(d, "groups");
            ByteBuffer g = DataFiles.map(groupFile);
            if (g.capacity() != source.records()) {
                throw new TinyPtqException(d.where("groups") + ": group file " + groupFile + " holds " + g.capacity()
                        + " bytes but the dataset has " + source.records() + " records, which need one u8 group each");
            }
            groups = new int[source.records()];
            for (int i = 0; i < groups.length; i++) {
                groups[i] = g.get(i) & 0xff;
            }
        }
        List<String> names = d.has("label_names") ? d.list("label_names") : List.of();
        return new DescriptorDataset(name, shape, classes, source, records, offset, divisor, names, groups);
    }
}
