package io.tinyptq.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyptq.kernel.store.QuantizedModelStore;
import io.tinyptq.zoo.Zoo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code run}'s mistakes of the user: an unknown recipe, a missing file, a bad {@code --set} or bit-width. Each is
 * one line on stderr naming what was wrong and what was expected, exit status 2, and no stack trace. Every case
 * fails before calibration, on an untrained toy CNN and generated data.
 */
class RunErrorsTest {
    @TempDir
    static Path dir;

    static Path model;
    static Path datasets;

    @BeforeAll
    static void modelAndData() throws Exception {
        model = dir.resolve("toy");
        QuantizedModelStore.save(Zoo.build("toy-cnn", 1), null, model);
        datasets = Files.createDirectories(dir.resolve("datasets"));
        Files.writeString(datasets.resolve("test.yaml"), "layout: synthetic\ncount: 40\nseed: 5\nfirst: 100000\n");
    }

    /** {@code run RECIPE --model toy --data test ARGS...}. */
    static CliTest.Result run(String recipe, String... args) {
        return CliTest.run(CliRunTest.concat(
                new String[] {
                    "run",
                    recipe,
                    "--model",
                    model.toString(),
                    "--data",
                    "test",
                    "--datasets",
                    datasets.toString(),
                    "--data-root",
                    dir.toString(),
                    "--calib",
                    "8",
                    "--limit",
                    "8"
                },
                args));
    }

    /** Exit 2, nothing on stdout, and stderr one line "error: ..." holding every part, without a stack trace. */
    static void assertOneLineError(CliTest.Result r, String... parts) {
        assertEquals(2, r.code(), r.err());
        assertEquals("", r.out());
        assertTrue(r.err().startsWith("error: ") && r.err().endsWith("\n"), r.err());
        assertEquals(1, r.err().lines().count(), r.err());
        assertFalse(r.err().contains("Exception") || r.err().contains("\tat "), r.err());
        for (String p : parts) {
            assertTrue(r.err().contains(p), "'" + p + "' in " + r.err());
        }
    }

    @Test
    void anUnknownBundledRecipeListsTheBundledOnes() {
        assertOneLineError(
                run("no-such-recipe"),
                "no bundled recipe 'no-such-recipe'; bundled recipes: [minmax, mse,",
                "adaround");
    }

    @Test
    void aRecipeFileThatDoesNotExistIsNamed() {
        // A .yaml name is a file, even where it does not exist: not looked up among the bundled recipes.
        assertOneLineError(run("myrecipe.yaml"), "error: recipe file myrecipe.yaml does not exist");
        Path missing = dir.resolve("no-folder/recipe.yml");
        assertOneLineError(run(missing.toString()), "error: recipe file " + missing + " does not exist");
    }

    @Test
    void aMissingModelFileIsNamed() {
        Path none = dir.resolve("none.tflite");
        CliTest.Result r = CliTest.run(
                "run",
                "mse",
                "--model",
                none.toString(),
                "--data",
                "test",
                "--datasets",
                datasets.toString(),
                "--data-root",
                dir.toString(),
                "--calib",
                "8");
        assertOneLineError(r, "error: model file " + none + " does not exist");
    }

    @Test
    void bitWidthsOutsideTwoToEightNameTheKeyTheRuleAndTheValue() {
        assertOneLineError(run("mse", "--wbits", "0"), "key 'weight_bits': must be >= 2, found 0");
        assertOneLineError(run("mse", "--wbits", "33"), "key 'weight_bits': must be <= 8, found 33");
        assertOneLineError(run("mse", "--abits", "1"), "key 'activation_bits': must be >= 2, found 1");
        assertOneLineError(
                run("mse", "--set", "quantization.input_bits=17"), "key 'input_bits': must be <= 16, found 17");
    }

    @Test
    void setValuesOfTheWrongTypeOrPastTheirRangeNameTheKey() {
        assertOneLineError(
                run("mse", "--set", "seed=abc"),
                "recipe, key 'seed': expected an integer, found the string" + " 'abc'");
        assertOneLineError(
                run("mse", "--set", "seed=99999999999999999999999"),
                "key 'seed': expected an integer in"
                        + " range [-9223372036854775808, 9223372036854775807], found the number 99999999999999999999999");
        assertOneLineError(
                run("mse", "--set", "calibration.size=99999999999999999999999"),
                "section 'calibration',"
                        + " key 'size': expected an integer in range, found the number 99999999999999999999999");
        assertOneLineError(
                run("mse", "--set", "init.weights.candidates=many"),
                "plugin 'mse', key 'candidates':" + " expected an integer, found the string 'many'");
        assertOneLineError(
                run("adaround", "--set", "optimize.round.iterations=0"),
                "plugin 'round', key" + " 'iterations': must be >= 1, found 0");
    }

    @Test
    void setValuesThatAreNotYamlNameTheOverride() {
        for (String o : List.of("seed=[1, ", "quantization.overrides=[{layer: fc", "seed=a: b: c", "name=\"open")) {
            assertOneLineError(run("mse", "--set", o), "error: override '" + o + "': value is not valid YAML: ");
        }
    }

    @Test
    void setKeysThatNameNothingSayWhatIsThere() {
        assertOneLineError(
                run("mse", "--set", "nosuchkey=1"),
                "recipe: unknown key 'nosuchkey'; known keys: name,"
                        + " description, seed, calibration, quantization, backend, preprocess, init, optimize, postprocess");
        assertOneLineError(
                run("mse", "--set", "init.weights.candidate=200"),
                "plugin 'mse': unknown key 'candidate'" + " (did you mean 'candidates'?)");
        assertOneLineError(run("mse", "--set", "seed"), "error: override 'seed': expected key=value");
        assertOneLineError(
                run("mse", "--set", "seed.x=1"), "error: override 'seed.x=1': 'seed' is a value, not a" + " section");
    }

    @Test
    void setStepIndicesOutsideTheSectionNameTheIndex() {
        assertOneLineError(
                run("adaround", "--set", "optimize.7.iterations=5"),
                "error: override 'optimize.7.iterations=5': there is no step 7 (the section has 1)");
        assertOneLineError(
                run("adaround", "--set", "optimize.99999999999999999999.iterations=5"),
                "there is no step 99999999999999999999 (the section has 1)");
        assertOneLineError(run("mse", "--set", "optimize.0.iterations=5"), "there is no step 0 (the section has 0)");
        assertOneLineError(
                run("adaround", "--set", "optimize.adaquant.iterations=5"),
                "no step uses plugin 'adaquant'; the steps are [round] (by name or index)");
    }

    /** train's and sweep's own mistakes, the same way: the value given, what was expected. */
    @Test
    void trainAndSweepMistakesAreOneLine() throws Exception {
        String[] data = {
            "--data",
            "test",
            "--datasets",
            datasets.toString(),
            "--data-root",
            dir.toString(),
            "--out",
            dir.resolve("trained").toString()
        };
        assertOneLineError(
                CliTest.run(CliRunTest.concat(new String[] {"train", "nosuch-arch"}, data)),
                "no architecture 'nosuch-arch' in the zoo; known: [toy-cnn, har-cnn, har-cnn-nobn]");
        assertOneLineError(
                CliTest.run(CliRunTest.concat(new String[] {"train", "toy-cnn", "--lr", "NaN"}, data)),
                "training setting learning rate is NaN, expected a finite number > 0");
        assertOneLineError(
                CliTest.run(CliRunTest.concat(new String[] {"train", "toy-cnn", "--epochs", "0"}, data)),
                "training setting epochs is 0, expected an integer >= 1");
        Path sweep = dir.resolve("sweep.yaml");
        Files.writeString(
                sweep,
                "name: s\nmodels: [{name: toy, file: " + model + ", data: test}]\n"
                        + "recipes: [minmax]\nbits: [8]\nseeds: [0]\n");
        assertOneLineError(
                CliTest.run("sweep", sweep.toString(), "--parallel", "0"),
                "--parallel is 0, expected the number of trials to run at once, >= 1");
    }

    /** An --out that cannot hold results fails before calibration, not after the work is done. */
    @Test
    void anOutThatIsAFileFailsBeforeAnyWork() throws Exception {
        Path file = Files.writeString(dir.resolve("not-a-folder"), "x");
        assertOneLineError(run("mse", "--out", file.toString()), "--out " + file + ": is a file; name a folder");
    }

    /**
     * Every command that writes results refuses an --out that cannot hold them before it reads anything: here the
     * other inputs do not even exist, and the --out error is the one reported.
     */
    @Test
    void everyOutThatIsAFileFailsFirst() throws Exception {
        Path file = Files.writeString(dir.resolve("a-file"), "x");
        Path below = file.resolve("sub");
        for (Path out : List.of(file, below)) {
            String said = "--out " + out + ": " + (out == file ? "is a file" : file + " is a file");
            assertOneLineError(CliTest.run("train", "toy-cnn", "--data", "nosuch", "--out", out.toString()), said);
            assertOneLineError(
                    CliTest.run(
                            "run",
                            "nosuch.yaml",
                            "--model",
                            "none.tflite",
                            "--data",
                            "nosuch",
                            "--out",
                            out.toString()),
                    said);
            assertOneLineError(CliTest.run("sweep", "nosuch-sweep.yaml", "--out", out.toString()), said);
            assertOneLineError(CliTest.run("report", "none.db", "--out", out.toString()), said);
        }
        assertOneLineError(
                CliTest.run("export", "none.tflite", "-o", dir.toString()),
                "-o " + dir + ": is a folder;" + " name the file to write");
        assertOneLineError(
                CliTest.run(
                        "export", "none.tflite", "-o", below.resolve("m.tflite").toString()),
                "-o " + below.resolve("m.tflite") + ": " + file + " is a file, not a folder to write into");
        assertEquals("x", Files.readString(file));
    }

    /** A negative --limit is a mistake in run as in eval: one line, exit 2 (0 means all samples). */
    @Test
    void aNegativeLimitIsRefusedByRunAndEval() {
        assertOneLineError(
                CliTest.run(
                        "run",
                        "mse",
                        "--model",
                        model.toString(),
                        "--data",
                        "test",
                        "--datasets",
                        datasets.toString(),
                        "--data-root",
                        dir.toString(),
                        "--limit",
                        "-1"),
                "error: --limit is -1; expected a number of samples >= 0 (0: all" + " samples)");
        assertOneLineError(
                CliTest.run(
                        "eval",
                        "--model",
                        model.toString(),
                        "--data",
                        "test",
                        "--datasets",
                        datasets.toString(),
                        "--data-root",
                        dir.toString(),
                        "--limit",
                        "-5"),
                "error: --limit is -5; expected a" + " number of samples >= 0 (0: all samples)");
    }

    /** A recipe file holding nothing, or only comments, is an error naming the file, not the default recipe. */
    @Test
    void anEmptyOrCommentsOnlyRecipeIsAnError() throws Exception {
        for (String text : List.of("", "# nothing yet\n\n   # still nothing\n")) {
            Path recipe = Files.writeString(dir.resolve("empty.yaml"), text);
            assertOneLineError(
                    run(recipe.toString()), "error: " + recipe + ":1:1: recipe: the recipe is empty (no keys)");
            CliTest.Result v = CliTest.run("recipe", "validate", recipe.toString());
            assertEquals(1, v.code(), v.out() + v.err());
            assertTrue((v.out() + v.err()).contains(recipe + ":1:1: recipe: the recipe is empty"), v.out() + v.err());
        }
    }

    /** report given an empty or foreign file: one line, and the file is left as it was. */
    @Test
    void reportOnAnEmptyOrForeignFileIsOneLineAndWritesNothing() throws Exception {
        Path empty = Files.createFile(dir.resolve("empty-results.db"));
        assertOneLineError(CliTest.run("report", empty.toString()), "error: " + empty + " is empty (0 bytes)");
        assertEquals(0, Files.size(empty));
        Path text = Files.writeString(dir.resolve("text-results.db"), "not sqlite");
        assertOneLineError(CliTest.run("report", text.toString()), "error: " + text + " is not an SQLite database");
        assertEquals("not sqlite", Files.readString(text));
        assertTrue(Files.notExists(dir.resolve("report")), "no report folder");
    }
}
