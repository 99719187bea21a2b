package io.tinyptq.kernel.data;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.tinyptq.api.TinyPtqException;
import io.tinyptq.api.spi.Dataset;
import io.tinyptq.api.spi.DatasetProvider;
import io.tinyptq.api.spi.PluginKind;
import io.tinyptq.kernel.registry.PluginNotFoundException;
import io.tinyptq.kernel.registry.PluginRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * Finds dataset descriptors and opens them with the dataset plugin their {@code layout} key names.
 *
 * <p>A descriptor is referred to by a file path or by a name: {@code cifar10-test} means
 * {@code <descriptor folder>/cifar10-test.yaml}, the descriptor folder being the project's top-level
 * {@code datasets/}. Paths inside a descriptor are relative to a data root ({@code ../shared/data} by default).
 */
public final class DatasetDescriptors {
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private DatasetDescriptors() {}

    /**
     * The descriptor file for {@code nameOrFile}: an existing file as given, else {@code <folder>/<name>.yaml};
     * fails listing the descriptors in {@code folder}.
     */
    public static Path resolve(String nameOrFile, Path folder) {
        Path asFile = Path.of(nameOrFile);
        if (Files.isRegularFile(asFile)) {
            return asFile;
        }
        if (folder != null && !nameOrFile.contains("/") && !nameOrFile.contains("\\")) {
            Path named = folder.resolve(nameOrFile.endsWith(".yaml") ? nameOrFile : nameOrFile + ".yaml");
            if (Files.isRegularFile(named)) {
                return named;
            }
        }
        throw new TinyPtqException("no dataset descriptor '" + nameOrFile + "': not a file, and "
                + (folder == null
                        ? "no descriptor folder is known"
                        : "not a descriptor name in " + folder + " (known: " + String.join(", ", names(folder)) + ")"));
    }

    /** Names of the descriptors in {@code folder} (files ending in {@code .yaml}), sorted. */
    public static List<String> names(Path folder) {
        if (folder == null || !Files.isDirectory(folder)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(folder)) {
            return files.map(p -> p.getFileName().toString())
                    .filter(n -> n.endsWith(".yaml"))
                    .map(n -> n.substring(0, n.length() - ".yaml".length()))
                    .sorted()
                    .toList();
        } catch (IOException e) {
            throw new TinyPtqException("cannot list dataset descriptors in " + folder + ": " + e.getMessage(), e);
        }
    }

    /** The {@code layout} key of a descriptor: the name of the dataset plugin that opens it. */
    public static String layout(Path descriptor) {
        JsonNode root;
        try {
            root = YAML.readTree(descriptor.toFile());
        } catch (JacksonException e) {
            throw new TinyPtqException("dataset descriptor " + descriptor + " is not valid YAML: "
                    + e.getOriginalMessage()
                    + (e.getLocation() == null
                            ? ""
                            : " (line " + e.getLocation().getLineNr() + ")"));
        } catch (IOException e) {
            throw new TinyPtqException("cannot read dataset descriptor " + descriptor + ": " + e.getMessage(), e);
        }
        JsonNode layout = root == null ? null : root.get("layout");
        if (layout == null || !layout.isTextual()) {
            throw new TinyPtqException(
                    "dataset descriptor " + descriptor + " has no 'layout' key naming its dataset" + " plugin");
        }
        return layout.asText();
    }

    /** Opens {@code descriptor} with the plugin its layout names and that plugin's default options. */
    public static Dataset open(PluginRegistry registry, Path descriptor, Path dataRoot) {
        String layout = layout(descriptor);
        DatasetProvider<?> provider;
        try {
            provider = registry.find(PluginKind.DATASET, layout, DatasetProvider.class);
        } catch (PluginNotFoundException e) {
            throw new TinyPtqException("dataset descriptor " + descriptor + ": " + e.getMessage(), e);
        }
        return open(provider, descriptor, dataRoot);
    }

    private static <O extends Record> Dataset open(DatasetProvider<O> provider, Path descriptor, Path dataRoot) {
        return provider.open(descriptor, dataRoot, provider.defaultOptions());
    }
}
