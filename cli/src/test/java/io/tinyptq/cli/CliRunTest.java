package io.tinyptq.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
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
        CliTest.Result train = CliTest.run(concat(new String[] {"train", "toy-cnn", "--data", "train", "--eval", "test",
                "--epochs", "5", "--out", toy.toString()}, common));
        assertEquals(0, train.code(), train.err());
        assertTrue(train.out().contains("accuracy on test"), train.out());

        Path out = dir.resolve("w4a4");
        CliTest.Result run = CliTest.run(concat(new String[] {"run", "adaround", "--model", toy.toString(), "--data", "test",
                "--calib-data", "train", "--calib", "128", "--wbits", "4", "--abits", "4", "--set",
                "optimize.round.iterations=200", "--out", out.toString(), "--json"}, common));
        assertEquals(0, run.code(), run.err());
        assertTrue(run.out().startsWith("{\"fp_accuracy\":"), run.out());
        String accuracy = run.out().replaceAll("(?s).*\"accuracy\":([0-9.]+).*", "$1");

        CliTest.Result eval = CliTest.run(concat(new String[] {"eval", "--model", out.resolve("model").toString(),
                "--data", "test", "--json"}, common));
        assertEquals(0, eval.code(), eval.err());
        assertTrue(eval.out().contains("\"accuracy\":" + accuracy), eval.out() + " vs run accuracy " + accuracy);

        // Asking for the tornado backend where it is not installed runs on cpu and says why and what to do.
        CliTest.Result tornado = CliTest.run(concat(new String[] {"run", "adaround", "--model", toy.toString(), "--data",
                "test", "--calib-data", "train", "--calib", "64", "--wbits", "4", "--abits", "4", "--set",
                "optimize.round.iterations=10", "--backend", "tornado:0:0", "--json"}, common));
        assertEquals(0, tornado.code(), tornado.err());
        assertTrue(tornado.err().contains("backend tornado is not installed in this tinyptq, running on cpu instead")
                && tornado.err().contains("TORNADO_SDK"), tornado.err());
        assertTrue(tornado.out().contains("\"name\":\"cpu\""), tornado.out());

        CliTest.Result info = CliTest.run("info", "--model", toy.toString(), "--blocks");
        assertEquals(0, info.code(), info.err());
        assertTrue(info.out().contains("separable  dw..pw"), info.out());
    }

    static String[] concat(String[] a, String[] b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
