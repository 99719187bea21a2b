package io.tinyptq.sweep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyptq.api.InvalidOptionException;
import io.tinyptq.kernel.Kernel;
import io.tinyptq.kernel.options.OptionsException;
import io.tinyptq.kernel.recipe.Recipe;
import io.tinyptq.recipes.BundledRecipes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SweepPlanTest {
    static Kernel kernel;

    @BeforeAll
    static void kernel() {
        kernel = Kernel.discover();
    }

    static String sweep(Path a, Path b) {
        return """
                name: grid
                description: two models, a bundled recipe twice and a recipe file
                models:
                  - {name: a, model: %s, data: synthetic-test, calib_data: synthetic-train, calib: 64, limit: 100}
                  - {name: b, model: %s, data: synthetic-test}
                recipes:
                  - {recipe: adaround, overrides: [optimize.round.iterations=50]}
                  - {recipe: adaround, label: adaround-block, overrides: ['optimize.round.granularity=block']}
                  - {recipe: mine.yaml}
                bits: [8/8, 4/4, 3/2]
                seeds: [0, 1]
                overrides: [backend.threads=1, optimize.round.iterations=20]
                """.formatted(a, b);
    }

    @Test
    void aSweepFileExpandsToEveryModelRecipeBitWidthAndSeed(@TempDir Path dir) throws Exception {
        Path a = Files.writeString(dir.resolve("a.bin"), "model a");
        Path b = Files.writeString(dir.resolve("b.bin"), "model b");
        Files.writeString(
                dir.resolve("mine.yaml"),
                "name: mine\ninit: {weights: minmax, activations: mse}\n"
                        + "optimize: [{plugin: round, options: {iterations: 10}}]\n");
        SweepFile s = SweepFiles.load(sweep(a, b), "grid.yaml");
        List<Trial> trials = SweepPlan.expand(s, dir, BundledRecipes::yaml, kernel.recipes(), dir.resolve("out"));
        assertEquals(2 * 3 * 3 * 2, trials.size());
        // Order: models, recipes, bit-widths, seeds.
        assertEquals("a adaround W8A8 seed 0", trials.get(0).label());
        assertEquals("a adaround W8A8 seed 1", trials.get(1).label());
        assertEquals("a adaround W4A4 seed 0", trials.get(2).label());
        assertEquals("a adaround W3A2 seed 1", trials.get(5).label());
        assertEquals("a adaround-block W8A8 seed 0", trials.get(6).label());
        assertEquals("a mine.yaml W8A8 seed 0", trials.get(12).label());
        assertEquals("b adaround W8A8 seed 0", trials.get(18).label());
        for (int i = 0; i < trials.size(); i++) {
            assertEquals(i + 1, trials.get(i).index());
        }

        Trial t = trials.get(5);
        assertEquals(
                List.of(
                        "backend.threads=1",
                        "optimize.round.iterations=20",
                        "optimize.round.iterations=50",
                        "quantization.weight_bits=3",
                        "quantization.activation_bits=2",
                        "seed=1",
                        "calibration.size=64"),
                t.overrides());
        assertEquals("synthetic-train", t.calibData());
        assertEquals(64, t.calibSize());
        assertEquals(100, t.evalLimit());
        Recipe r = kernel.recipes().load(t.recipeYaml(), "trial");
        assertEquals(3, r.quantization().weightBits());
        assertEquals(2, r.quantization().activationBits());
        assertEquals(1, r.seed());
        assertEquals(64, r.calibration().size());
        assertTrue(t.recipeYaml().contains("iterations: 50"), t.recipeYaml());
        assertTrue(
                t.outDir()
                        .startsWith(dir.resolve("out")
                                .resolve("trials")
                                .resolve("a")
                                .resolve("adaround")
                                .toString()),
                t.outDir());
        assertTrue(trials.get(6).recipeYaml().contains("granularity: block"));
        assertTrue(trials.get(6).recipeYaml().contains("iterations: 20"));
        // Model b: no calibration dataset, the recipe's calibration size, every sample evaluated.
        Trial tb = trials.get(18);
        assertNull(tb.calibData());
        assertEquals(1024, tb.calibSize());
        assertEquals(0, tb.evalLimit());
        assertEquals(
                "minmax",
                kernel.recipes()
                        .load(trials.get(12).recipeYaml(), "t")
                        .initWeights()
                        .plugin());

        // Keys: all distinct, and stable when the file is expanded again or the model file moves.
        assertEquals(
                trials.size(),
                trials.stream().map(Trial::key).collect(Collectors.toSet()).size());
        Path moved = Files.copy(a, dir.resolve("renamed.bin"));
        List<Trial> again = SweepPlan.expand(
                SweepFiles.load(sweep(moved, b), "grid.yaml"),
                dir,
                BundledRecipes::yaml,
                kernel.recipes(),
                dir.resolve("out"));
        assertEquals(
                trials.stream().map(Trial::key).toList(),
                again.stream().map(Trial::key).toList());
        // A changed model changes its trials' keys and no other.
        Files.writeString(a, "model a, retrained");
        List<Trial> changed = SweepPlan.expand(s, dir, BundledRecipes::yaml, kernel.recipes(), dir.resolve("out"));
        assertNotEquals(trials.get(0).key(), changed.get(0).key());
        assertEquals(trials.get(18).key(), changed.get(18).key());
    }

    /** The shipped sweep files (recipes/sweeps) load and expand, every override valid, with a stand-in model. */
    @Test
    void theShippedSweepFilesExpand(@TempDir Path dir) throws Exception {
        Path folder = Path.of("..", "recipes", "sweeps");
        Path stand = Files.writeString(dir.resolve("model.bin"), "stand-in");
        List<Path> files;
        try (var s = Files.list(folder)) {
            files = s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
        }
        assertTrue(files.size() >= 6, files.toString());
        for (Path f : files) {
            SweepFile s = SweepFiles.load(f);
            SweepFile local = new SweepFile(
                    s.name(),
                    s.description(),
                    s.models().stream()
                            .map(m -> new SweepFile.ModelEntry(
                                    m.name(), stand.toString(), m.data(), m.calibData(), m.calib(), m.limit()))
                            .toList(),
                    s.recipes(),
                    s.bits(),
                    s.seeds(),
                    s.overrides());
            List<Trial> trials = SweepPlan.expand(local, folder, BundledRecipes::yaml, kernel.recipes(), dir);
            assertEquals(
                    s.models().size()
                            * s.recipes().size()
                            * s.bits().size()
                            * s.seeds().size(),
                    trials.size(),
                    f.toString());
        }
    }

    @Test
    void unknownKeysFailWithTheirPositionAndTheKnownKeys() {
        OptionsException e = assertThrows(OptionsException.class, () -> SweepFiles.load("""
                name: x
                models:
                  - {name: a, model: m.tflite, data: d, calib_dat: c}
                recipes: [{recipe: mse}]
                bits: [4/4]
                seeds: [0]
                sed: 3
                """, "x.yaml"));
        String m = e.getMessage();
        assertTrue(m.contains("x.yaml:3:"), m);
        assertTrue(
                m.contains("unknown key 'models[0].calib_dat' (did you mean 'calib_data'?)")
                        || m.contains("unknown key 'calib_dat'"),
                m);
        assertTrue(m.contains("x.yaml:7:1"), m);
        assertTrue(m.contains("unknown key 'sed'"), m);
        assertTrue(m.contains("known keys: name, description, models, recipes, bits, seeds, overrides"), m);
    }

    @Test
    void badBitWidthsMissingKeysAndDuplicateNamesAreReportedTogether() {
        OptionsException e = assertThrows(OptionsException.class, () -> SweepFiles.load("""
                name: x
                models:
                  - {name: a, model: m.tflite, data: d}
                  - {name: a, model: n.tflite}
                recipes: [{recipe: mse}, {recipe: mse}]
                bits: [4/4, 9/4, W4A4]
                seeds: []
                """, "x.yaml"));
        String m = e.getMessage();
        assertTrue(m.contains("models[1].data") && m.contains("a value is required"), m);
        assertTrue(m.contains("seeds") && m.contains("must hold between 1"), m);
        OptionsException e2 = assertThrows(OptionsException.class, () -> SweepFiles.load("""
                name: x
                models:
                  - {name: a, model: m.tflite, data: d}
                  - {name: a, model: n.tflite, data: d}
                recipes: [{recipe: mse}, {recipe: mse}]
                bits: [4/4, 9/4, W4A4]
                seeds: [0]
                """, "x.yaml"));
        String m2 = e2.getMessage();
        assertTrue(m2.contains("x.yaml:6:") && m2.contains("found '9/4'"), m2);
        assertTrue(m2.contains("found 'W4A4'"), m2);
        assertTrue(m2.contains("x.yaml:4:") && m2.contains("'a' is already used by models[0]"), m2);
        assertTrue(m2.contains("'mse' is already used by recipes[0]"), m2);
    }

    @Test
    void aBadOverrideNamesTheSweepAndRecipe(@TempDir Path dir) throws Exception {
        Path a = Files.writeString(dir.resolve("a.bin"), "model a");
        SweepFile s = SweepFiles.load("""
                name: x
                models: [{name: a, model: %s, data: d}]
                recipes: [{recipe: mse, overrides: [optimize.round.iterations=5]}]
                bits: [4/4]
                seeds: [0]
                """.formatted(a), "x.yaml");
        InvalidOptionException e = assertThrows(
                InvalidOptionException.class,
                () -> SweepPlan.expand(s, dir, BundledRecipes::yaml, kernel.recipes(), dir));
        assertTrue(
                e.getMessage().startsWith("sweep 'x', recipe 'mse' (mse): override 'optimize.round.iterations=5'"),
                e.getMessage());
        assertEquals(new HashSet<>(List.of()), new HashSet<>(s.overrides()));
    }
}
