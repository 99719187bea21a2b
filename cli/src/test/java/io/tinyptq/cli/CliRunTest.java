package io.tinyptq.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** train -> run -> eval -> info through the command line, on generated data only. */
class CliRunTest {

    @Test
    void trainQuantizeEvaluateAndInspect(@TempDir Path dir) throws Exception {
        Path datasets = Files.createDirectories(dir.resolve("datasets"));
        Files.writeString(datasets.resolve("train.yaml"), "layout: synthetic\ncount: 2000\nseed: 5\n");
        Files.writeString(datasets.resolve("test.yaml"), "layout: synthetic\ncount: 500\nseed: 5\nfirst: 100000\n");
        String[] common = {"--datasets", datasets.toString(), "--data-root", dir.toString()};
        Path toy = dir.resolve("toy");
        CliTest.Result train = CliTest.run(concat(
                new String[] {
                    "train", "toy-cnn", "--data", "train", "--eval", "test", "--epochs", "5", "--out", toy.toString()
                },
                common));
        assertEquals(0, train.code(), train.err());
        Matcher trained = Pattern.compile("accuracy on test: ([0-9.]+) %").matcher(train.out());
        assertTrue(trained.find(), train.out());
        double trainedAccuracy = Double.parseDouble(trained.group(1));
        // Four shapes, chance 25 %: five epochs learn them (measured: 68.6 %).
        assertTrue(trainedAccuracy > 40 && trainedAccuracy <= 100, train.out());
        assertTrue(Files.isRegularFile(toy.resolve("model.json")) && Files.isRegularFile(toy.resolve("constants.bin")));

        // The float model as eval sees it: what train printed, and what run must report as FP accuracy.
        CliTest.Result fpEval = CliTest.run(
                concat(new String[] {"eval", "--model", toy.toString(), "--data", "test", "--json"}, common));
        assertEquals(0, fpEval.code(), fpEval.err());
        assertEquals(500, (long) number(fpEval.out(), "samples"), fpEval.out());
        double fp = number(fpEval.out(), "accuracy");
        assertEquals(String.format(Locale.ROOT, "%.2f", fp), trained.group(1));

        Path out = dir.resolve("w4a4");
        CliTest.Result run = CliTest.run(concat(
                new String[] {
                    "run",
                    "adaround",
                    "--model",
                    toy.toString(),
                    "--data",
                    "test",
                    "--calib-data",
                    "train",
                    "--calib",
                    "128",
                    "--wbits",
                    "4",
                    "--abits",
                    "4",
                    "--set",
                    "optimize.round.iterations=200",
                    "--out",
                    out.toString(),
                    "--json"
                },
                common));
        assertEquals(0, run.code(), run.err());
        assertTrue(run.out().startsWith("{\"fp_accuracy\":"), run.out());
        assertEquals(1, run.out().lines().count(), run.out());
        // FP accuracy on the same samples as eval, quantized accuracy a percentage of them.
        assertEquals(fp, number(run.out(), "fp_accuracy"), 1e-9, run.out());
        double w4a4 = number(run.out(), "accuracy");
        assertTrue(w4a4 >= 0 && w4a4 <= 100, run.out());
        // AdaRound at W4A4 keeps most of it (measured: 68.6 % -> 60.2 %; chance is 25 %).
        assertTrue(w4a4 >= fp - 20, run.out());
        assertEquals(500, (long) number(run.out(), "samples"), run.out());
        assertTrue(run.out().contains("\"calibration\":\"train (128 samples drawn with seed 0)\""), run.out());
        assertEquals(4, (long) number(run.out(), "weight_bits"), run.out());
        assertEquals(4, (long) number(run.out(), "activation_bits"), run.out());
        // BOPs = MACs x 4 x 4 against 32 x 32.
        assertEquals(number(run.out(), "fp_bops") / 64, number(run.out(), "bops"), 1e-6, run.out());
        assertTrue(number(run.out(), "memory_bits") < number(run.out(), "fp_memory_bits"), run.out());
        String accuracy = run.out().replaceAll("(?s).*\"accuracy\":([0-9.]+).*", "$1");

        // What run --out promises: report.txt/.json, encodings.json, model/ (reloadable) and provenance.yaml.
        for (String f : List.of(
                "report.txt",
                "report.json",
                "encodings.json",
                "model/model.json",
                "model/constants.bin",
                "provenance.yaml")) {
            assertTrue(Files.isRegularFile(out.resolve(f)) && Files.size(out.resolve(f)) > 0, f);
        }
        String reportJson = Files.readString(out.resolve("report.json"));
        assertEquals(fp, number(reportJson, "fp_accuracy"), 1e-9, reportJson);
        assertEquals(w4a4, number(reportJson, "accuracy"), 1e-9, reportJson);
        assertTrue(Files.readString(out.resolve("report.txt")).contains(String.format(Locale.ROOT, "%.2f", w4a4)));
        String encodings = Files.readString(out.resolve("encodings.json"));
        assertTrue(
                encodings.contains("\"activation_encodings\"")
                        && encodings.contains("\"param_encodings\"")
                        && encodings.contains("\"bitwidth\" : 4"),
                encodings);
        // The resolved recipe loads again, with the overrides of the command line in it.
        CliTest.Result provenance =
                CliTest.run("recipe", "validate", out.resolve("provenance.yaml").toString());
        assertEquals(0, provenance.code(), provenance.err());
        assertTrue(provenance.out().contains(": adaround — W4A4,"), provenance.out());
        assertTrue(Files.readString(out.resolve("provenance.yaml")).contains("iterations: 200"));

        CliTest.Result eval = CliTest.run(concat(
                new String[] {"eval", "--model", out.resolve("model").toString(), "--data", "test", "--json"}, common));
        assertEquals(0, eval.code(), eval.err());
        assertTrue(eval.out().contains("\"accuracy\":" + accuracy), eval.out() + " vs run accuracy " + accuracy);

        // Results written over an earlier run's: report.json, the mark of complete results with the digest of every
        // file, comes last, so a write that fails half way (here: a file where the model folder goes) leaves the old
        // record, which the new files no longer match: the folder is refused as half-written.
        Path broken = Files.createDirectories(dir.resolve("broken"));
        Files.copy(out.resolve("report.json"), broken.resolve("report.json"));
        Files.writeString(broken.resolve("model"), "not a folder");
        CliTest.Result interrupted = CliTest.run(concat(
                new String[] {
                    "run",
                    "minmax",
                    "--model",
                    toy.toString(),
                    "--data",
                    "test",
                    "--calib-data",
                    "train",
                    "--calib",
                    "64",
                    "--wbits",
                    "8",
                    "--abits",
                    "8",
                    "--out",
                    broken.toString()
                },
                common));
        assertTrue(interrupted.code() != 0, interrupted.out());
        assertTrue(interrupted.err().contains("cannot write"), interrupted.err());
        assertEquals(Files.readString(out.resolve("report.json")), Files.readString(broken.resolve("report.json")));
        String refused = org.junit.jupiter.api.Assertions.assertThrows(
                        io.tinyptq.api.TinyPtqException.class,
                        () -> io.tinyptq.kernel.store.ResultsFolder.check(broken))
                .getMessage();
        assertTrue(refused.startsWith(broken + ": report.txt is not the file that report.json records"), refused);

        // At W8A8 even plain min-max ranges stay close to the float model (measured: no change, 68.6 %).
        CliTest.Result w8a8 = CliTest.run(concat(
                new String[] {
                    "run",
                    "minmax",
                    "--model",
                    toy.toString(),
                    "--data",
                    "test",
                    "--calib-data",
                    "train",
                    "--calib",
                    "128",
                    "--wbits",
                    "8",
                    "--abits",
                    "8",
                    "--json"
                },
                common));
        assertEquals(0, w8a8.code(), w8a8.err());
        assertEquals(fp, number(w8a8.out(), "fp_accuracy"), 1e-9, w8a8.out());
        assertTrue(Math.abs(number(w8a8.out(), "accuracy") - fp) <= 1.0, w8a8.out() + " vs FP " + fp);

        // Asking for the tornado backend where it is not installed runs on cpu and says why and what to do.
        CliTest.Result tornado = CliTest.run(concat(
                new String[] {
                    "run",
                    "adaround",
                    "--model",
                    toy.toString(),
                    "--data",
                    "test",
                    "--calib-data",
                    "train",
                    "--calib",
                    "64",
                    "--wbits",
                    "4",
                    "--abits",
                    "4",
                    "--set",
                    "optimize.round.iterations=10",
                    "--backend",
                    "tornado:0:0",
                    "--json"
                },
                common));
        assertEquals(0, tornado.code(), tornado.err());
        assertTrue(
                tornado.err().contains("backend tornado is not installed in this tinyptq, running on cpu instead")
                        && tornado.err().contains("TORNADO_SDK"),
                tornado.err());
        assertTrue(tornado.out().contains("\"name\":\"cpu\""), tornado.out());

        CliTest.Result info = CliTest.run("info", "--model", toy.toString(), "--blocks");
        assertEquals(0, info.code(), info.err());
        assertTrue(info.out().contains("separable  dw..pw"), info.out());
    }

    /** The first number under {@code "key":} in a JSON text (the top-level fields come first in tinyptq's). */
    static double number(String json, String key) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(key) + "\"\\s*:\\s*(-?[0-9][0-9.eE+-]*)")
                .matcher(json);
        assertTrue(m.find(), "no number " + key + " in " + json);
        return Double.parseDouble(m.group(1));
    }

    static String[] concat(String[] a, String[] b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
