package io.tinyptq.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CliTest {
    record Result(int code, String out, String err) {}

    static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        var cl = Main.commandLine();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new Result(code, out.toString(), err.toString());
    }

    @Test
    void pluginsListsRealProvidersWithTheirOptions() {
        Result r = run("plugins");
        assertEquals(0, r.code());
        assertTrue(r.out().contains("init — quantizer initialization (step 2)"), r.out());
        assertTrue(
                r.out().matches("(?s).*\n  mse \\S+  \\(io\\.tinyptq\\.plugins\\.init\\.MseInitializer\\)\n.*"),
                r.out());
        assertTrue(
                r.out()
                        .matches("(?s).*candidates\\s+integer\\s+default 100\\s+\\[100\\.\\.100000\\] candidate"
                                + " clipping ranges.*"),
                r.out());
        assertTrue(r.out().matches("(?s).*\n  cpu \\S+  \\(io\\.tinyptq\\.backend\\.cpu\\.CpuBackend\\)\n.*"), r.out());
        assertTrue(r.out().contains("integer — integer runtime"), r.out());
        assertTrue(
                r.out().matches("(?s).*\n  reference \\S+  \\(io\\.tinyptq\\.integer\\.ReferenceIntegerRuntime\\)\n.*"),
                r.out());
    }

    @Test
    void kindFilterIsCaseInsensitive() {
        Result r = run("plugins", "--kind", "init");
        assertEquals(0, r.code());
        assertTrue(r.out().startsWith("init — "), r.out());
        assertTrue(!r.out().contains("backend — "), r.out());
    }

    @Test
    void validateReportsMisspelledKeysWithLineAndKnownKeys(@TempDir Path dir) throws Exception {
        Path good = dir.resolve("good.yaml");
        Files.writeString(good, "name: good\ninit: {weights: mse, activations: minmax}\n");
        Path bad = dir.resolve("bad.yaml");
        Files.writeString(bad, """
                name: bad
                init:
                  weights:
                    plugin: mse
                    options: {candidate: 200}
                """);
        Result r = run("recipe", "validate", good.toString(), bad.toString());
        assertEquals(1, r.code());
        assertTrue(r.out().contains("ok    " + good + ": good — W8A8"), r.out());
        assertTrue(r.err().contains("FAIL  " + bad), r.err());
        assertTrue(
                r.err()
                        .contains(bad + ":5:15: stage init.weights, plugin 'mse': unknown key 'candidate' (did you"
                                + " mean 'candidates'?); known keys: candidates, refine_steps, bins"),
                r.err());
    }

    @Test
    void validateBundledRecipes() {
        Result r = run("recipe", "validate", "--bundled");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("ok    bundled:mse: mse — W8A8"), r.out());
    }

    @Test
    void schemaAndBundledRecipes() {
        Result schema = run("recipe", "schema");
        assertEquals(0, schema.code());
        assertTrue(schema.out().contains("\"const\" : \"mse\""), schema.out());
        assertTrue(run("recipe", "list").out().contains("mse-weights-minmax-activations"));
        assertTrue(run("recipe", "show", "minmax").out().contains("activations: minmax"));
        Result missing = run("recipe", "show", "no-such-recipe");
        assertEquals(2, missing.code());
        assertTrue(
                missing.err().startsWith("error: no bundled recipe 'no-such-recipe'; bundled recipes: [minmax, mse,"),
                missing.err());
    }

    @Test
    void versionAndHelp() {
        assertTrue(run("--version").out().startsWith("tinyptq "));
        Result help = run("recipe", "validate", "--help");
        assertEquals(0, help.code());
        assertTrue(help.out().contains("--bundled"), help.out());
    }

    /** A command failing as tinyptq's bugs and users' mistakes do. */
    @picocli.CommandLine.Command(name = "fail")
    static final class Fail implements java.util.concurrent.Callable<Integer> {
        @picocli.CommandLine.Parameters
        String how;

        @Override
        public Integer call() {
            if (how.equals("bug")) {
                throw new IllegalStateException("a planted bug");
            }
            throw new io.tinyptq.api.TinyPtqException("a planted mistake");
        }
    }

    static Result runWithFail(String how) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        var cl = Main.commandLine();
        cl.addSubcommand(new Fail());
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute("fail", how);
        return new Result(code, out.toString(), err.toString());
    }

    /**
     * An unexpected exception, a bug, prints its stack trace then one line asking for a report, exit status 1; a user's
     * mistake stays one line, exit status 2.
     */
    @Test
    void aBugPrintsItsTraceAndAsksForAReportWhileAMistakeIsOneLine() {
        Result bug = runWithFail("bug");
        assertEquals(1, bug.code(), bug.err());
        List<String> lines = bug.err().lines().toList();
        assertEquals("java.lang.IllegalStateException: a planted bug", lines.get(0));
        assertTrue(lines.get(1).strip().startsWith("at io.tinyptq.cli.CliTest$Fail.call("), bug.err());
        String last = lines.get(lines.size() - 1);
        assertTrue(
                last.startsWith("tinyptq ")
                        && last.contains(" stopped on an unexpected java.lang.IllegalStateException:"
                                + " this is a bug in tinyptq, not a mistake of yours; please report it with the command line and the"
                                + " trace above"),
                last);
        assertEquals("", bug.out());
        Result mistake = runWithFail("mistake");
        assertEquals(2, mistake.code(), mistake.err());
        assertEquals("error: a planted mistake\n", mistake.err());
    }
}
