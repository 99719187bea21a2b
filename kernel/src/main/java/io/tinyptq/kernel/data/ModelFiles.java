package io.tinyptq.kernel.data;

import io.tinyptq.api.TinyPtqException;
import io.tinyptq.api.integer.IntegerModel;
import io.tinyptq.api.model.Model;
import io.tinyptq.api.spi.ModelFormat;
import io.tinyptq.api.spi.Plugin;
import io.tinyptq.api.spi.PluginKind;
import io.tinyptq.kernel.registry.PluginRegistry;
import io.tinyptq.kernel.store.QuantizedModelStore;
import io.tinyptq.kernel.store.ResultsFolder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Reads model files with the model-format plugin that claims their extension, using its default options. */
public final class ModelFiles {
    private ModelFiles() {}

    /** The format plugin whose {@link ModelFormat#extensions()} include {@code file}'s extension. */
    public static ModelFormat<?> formatFor(PluginRegistry registry, Path file) {
        String name = file.getFileName().toString();
        int dot = name.lastIndexOf('.');
        String ext = dot < 0 ? "" : name.substring(dot + 1).toLowerCase(Locale.ROOT);
        List<String> known = new ArrayList<>();
        for (Plugin<?> p : registry.plugins(PluginKind.FORMAT)) {
            ModelFormat<?> f = (ModelFormat<?>) p;
            if (f.extensions().contains(ext)) {
                return f;
            }
            f.extensions().forEach(e -> known.add("." + e + " (" + f.name() + ")"));
        }
        throw new TinyPtqException("no model format reads '" + name + "'" + (ext.isEmpty() ? "" : " (." + ext + ")")
                + "; known extensions: "
                + (known.isEmpty() ? "none (no format plugin found)" : String.join(", ", known)));
    }

    /**
     * Reads {@code file} with the format for its extension and that format's default options, or a directory
     * written by {@link io.tinyptq.kernel.store.QuantizedModelStore} (its float model).
     */
    public static Model read(PluginRegistry registry, Path file) {
        file = storeOf(file);
        if (QuantizedModelStore.isStore(file)) {
            return QuantizedModelStore.load(file).model();
        }
        if (!Files.isRegularFile(file)) {
            throw new TinyPtqException("model file " + file + " does not exist");
        }
        return read(formatFor(registry, file), file);
    }

    /**
     * The model and, for a stored quantized model, its quantizers ({@code null} for float models): what evaluation
     * needs to reproduce a run's quantized accuracy.
     */
    public static QuantizedModelStore.Stored readWithQuantizers(PluginRegistry registry, Path file) {
        file = storeOf(file);
        if (QuantizedModelStore.isStore(file)) {
            return QuantizedModelStore.load(file);
        }
        return new QuantizedModelStore.Stored(read(registry, file), null);
    }

    /** A results folder ({@code run --out DIR}) stands for the model stored in it, {@code DIR/model}. */
    private static Path storeOf(Path file) {
        Path inside = file.resolve(ResultsFolder.MODEL);
        return ResultsFolder.isResultsFolder(file) && QuantizedModelStore.isStore(inside) ? inside : file;
    }

    private static <O extends Record> Model read(ModelFormat<O> format, Path file) {
        return format.read(file, format.defaultOptions());
    }

    /**
     * Whether {@code file} is a fully-integer model (integer activations, e.g. an int8 TFLite file), read by
     * {@link #readInteger} and run by an integer runtime; false for directories (stored models are float models
     * with quantizers) and for files whose format reads no integer models.
     */
    public static boolean isInteger(PluginRegistry registry, Path file) {
        if (!Files.isRegularFile(file)) {
            return false;
        }
        return isInteger(formatFor(registry, file), file);
    }

    /** Reads a fully-integer model with the format for {@code file}'s extension and its default options. */
    public static IntegerModel readInteger(PluginRegistry registry, Path file) {
        if (!Files.isRegularFile(file)) {
            throw new TinyPtqException("model file " + file + " does not exist");
        }
        return readInteger(formatFor(registry, file), file);
    }

    private static <O extends Record> boolean isInteger(ModelFormat<O> format, Path file) {
        return format.isInteger(file, format.defaultOptions());
    }

    private static <O extends Record> IntegerModel readInteger(ModelFormat<O> format, Path file) {
        return format.readInteger(file, format.defaultOptions());
    }
}
