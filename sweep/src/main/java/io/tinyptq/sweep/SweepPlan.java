package io.tinyptq.sweep;

import io.tinyptq.api.InvalidOptionException;
import io.tinyptq.api.TinyPtqException;
import io.tinyptq.kernel.recipe.Recipe;
import io.tinyptq.kernel.recipe.RecipeLoader;
import io.tinyptq.kernel.recipe.RecipeOverrides;
import io.tinyptq.kernel.recipe.RecipeWriter;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * Expands a sweep file into trials: models, then recipes, then bit-width pairs, then seeds (so each table cell's
 * seeds run together). Each trial's recipe is the named recipe with the sweep's overrides, the recipe entry's
 * overrides, and the grid's values ({@code quantization.weight_bits}, {@code quantization.activation_bits},
 * {@code seed}, and the model's {@code calibration.size}) applied in that order, and validated like any recipe.
 *
 * <p>The trial key is the SHA-256 of the resolved settings: the model file's content, the evaluation and
 * calibration data names, the evaluation limit, the method label and the resolved recipe (every option spelled
 * out). Renaming or moving the model file, reordering the sweep file or adding entries leaves the keys of the
 * other trials unchanged, so a re-run skips them; changing any option of a trial makes it a new trial.
 */
public final class SweepPlan {
    private SweepPlan() {}

    /**
     * @param sweepDir  folder that relative recipe files are resolved against (the sweep file's)
     * @param bundled   recipes by name
     * @param outDir    the sweep's output folder; each trial gets {@code trials/MODEL/METHOD/WxAy-seedS-KEY}
     */
    public static List<Trial> expand(
            SweepFile sweep, Path sweepDir, RecipeSource bundled, RecipeLoader loader, Path outDir) {
        List<Trial> trials = new ArrayList<>();
        for (SweepFile.ModelEntry m : sweep.models()) {
            Path modelPath = Path.of(m.model());
            if (!Files.exists(modelPath)) {
                throw new TinyPtqException("sweep '" + sweep.name() + "', model '" + m.name() + "': " + modelPath
                        + " does not exist (relative paths are taken from the working directory "
                        + Path.of("").toAbsolutePath() + ")");
            }
            String modelHash = contentHash(modelPath);
            for (SweepFile.RecipeEntry r : sweep.recipes()) {
                Recipe base = loadRecipe(r, sweepDir, bundled, loader, sweep.name());
                String method = SweepFiles.label(r);
                for (String pair : sweep.bits()) {
                    int[] wa = SweepFiles.bits(pair);
                    for (long seed : sweep.seeds()) {
                        List<String> overrides = new ArrayList<>(sweep.overrides());
                        overrides.addAll(r.overrides());
                        overrides.add("quantization.weight_bits=" + wa[0]);
                        overrides.add("quantization.activation_bits=" + wa[1]);
                        overrides.add("seed=" + seed);
                        if (m.calib() != null) {
                            overrides.add("calibration.size=" + m.calib());
                        }
                        Recipe resolved;
                        try {
                            resolved = RecipeOverrides.apply(base, overrides, loader);
                        } catch (InvalidOptionException e) {
                            throw new InvalidOptionException("sweep '" + sweep.name() + "', recipe '" + r.recipe()
                                    + "' (" + method + "): " + e.getMessage());
                        }
                        String yaml = RecipeWriter.toYaml(resolved);
                        String calibData =
                                m.calibData() == null || m.calibData().isEmpty() ? null : m.calibData();
                        int limit = m.limit() == null ? 0 : m.limit();
                        String key = key(modelHash, m.data(), calibData, limit, method, yaml);
                        String dir = outDir.resolve("trials")
                                .resolve(m.name())
                                .resolve(safe(method))
                                .resolve(String.format(
                                        Locale.ROOT, "W%dA%d-seed%d-%s", wa[0], wa[1], seed, key.substring(0, 8)))
                                .toString();
                        trials.add(new Trial(
                                key,
                                trials.size() + 1,
                                sweep.name(),
                                m.name(),
                                m.model(),
                                m.data(),
                                calibData,
                                resolved.calibration().size(),
                                limit,
                                method,
                                r.recipe(),
                                wa[0],
                                wa[1],
                                seed,
                                overrides,
                                yaml,
                                dir));
                    }
                }
            }
        }
        return trials;
    }

    /** SHA-256 (hex) of the settings that determine a trial's result. */
    public static String key(
            String modelHash, String data, String calibData, int evalLimit, String method, String recipeYaml) {
        String text = "tinyptq-trial-v1\nmodel_sha256=" + modelHash + "\ndata=" + data + "\ncalib_data="
                + (calibData == null ? "" : calibData) + "\neval_limit=" + evalLimit + "\nmethod=" + method
                + "\nrecipe=\n" + recipeYaml;
        return HexFormat.of().formatHex(sha256().digest(text.getBytes(StandardCharsets.UTF_8)));
    }

    private static Recipe loadRecipe(
            SweepFile.RecipeEntry r, Path sweepDir, RecipeSource bundled, RecipeLoader loader, String sweep) {
        String name = r.recipe();
        if (name.endsWith(".yaml") || name.endsWith(".yml")) {
            Path file = sweepDir.resolve(name);
            if (!Files.isRegularFile(file)) {
                throw new TinyPtqException("sweep '" + sweep + "': recipe file " + file + " does not exist (recipe"
                        + " files are resolved against the sweep file's folder " + sweepDir + ")");
            }
            return loader.load(file);
        }
        String yaml;
        try {
            yaml = bundled.yaml(name);
        } catch (IllegalArgumentException e) {
            throw new TinyPtqException(
                    "sweep '" + sweep + "': " + e.getMessage() + " (a recipe file must end in .yaml)", e);
        }
        return loader.load(yaml, "bundled:" + name);
    }

    /** SHA-256 of a file, or of a folder's files (relative names and contents, in name order). */
    static String contentHash(Path path) {
        MessageDigest md = sha256();
        try {
            if (Files.isDirectory(path)) {
                List<Path> files;
                try (Stream<Path> s = Files.walk(path)) {
                    files = s.filter(Files::isRegularFile).sorted().toList();
                }
                for (Path f : files) {
                    md.update(path.relativize(f).toString().replace('\\', '/').getBytes(StandardCharsets.UTF_8));
                    md.update((byte) 0);
                    digest(md, f);
                }
            } else {
                digest(md, path);
            }
        } catch (IOException e) {
            throw new TinyPtqException("cannot read model " + path + " to key its trials: " + e.getMessage(), e);
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static void digest(MessageDigest md, Path f) throws IOException {
        byte[] buf = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(f)) {
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }

    /** A method label as a folder name. */
    static String safe(String s) {
        return s.replaceAll("[^A-Za-z0-9._-]+", "_");
    }
}
