package io.tinyptq.cli;

import io.tinyptq.api.TinyPtqException;
import io.tinyptq.kernel.Kernel;
import io.tinyptq.kernel.recipe.Recipe;
import io.tinyptq.kernel.recipe.Step;
import io.tinyptq.recipes.BundledRecipes;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code tinyptq recipe ...}: validate recipes, print the schema, list and show bundled recipes. */
@Command(
        name = "recipe",
        mixinStandardHelpOptions = true,
        description = "Work with YAML recipes.",
        subcommands = {
            RecipeCommand.Validate.class,
            RecipeCommand.Schema.class,
            RecipeCommand.ListBundled.class,
            RecipeCommand.Show.class
        })
final class RecipeCommand {

    @Command(
            name = "validate",
            mixinStandardHelpOptions = true,
            description = "Load recipes strictly and report every problem with file, line and column."
                    + " Exit status 1 if any recipe is invalid.")
    static final class Validate implements Callable<Integer> {
        private final Supplier<Kernel> kernel;

        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "FILE", arity = "0..*", description = "recipe files")
        List<Path> files = new ArrayList<>();

        @Option(names = "--bundled", description = "also validate every bundled recipe")
        boolean bundled;

        Validate(Supplier<Kernel> kernel) {
            this.kernel = kernel;
        }

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            if (files.isEmpty() && !bundled) {
                err.println("error: give recipe files, or --bundled");
                return 2;
            }
            int bad = 0;
            for (Path f : files) {
                bad += check(
                        out, err, f.toString(), () -> kernel.get().recipes().load(f));
            }
            if (bundled) {
                for (String name : BundledRecipes.names()) {
                    bad += check(
                            out,
                            err,
                            "bundled:" + name,
                            () -> kernel.get().recipes().load(BundledRecipes.yaml(name), "bundled:" + name));
                }
            }
            out.flush();
            err.flush();
            return bad == 0 ? 0 : 1;
        }

        private static int check(PrintWriter out, PrintWriter err, String source, Supplier<Recipe> load) {
            try {
                Recipe r = load.get();
                out.printf("ok    %s: %s%n", source, summary(r));
                return 0;
            } catch (TinyPtqException e) {
                err.printf("FAIL  %s%n%s%n", source, e.getMessage().indent(6).stripTrailing());
                return 1;
            }
        }

        static String summary(Recipe r) {
            return r.name() + " — W" + r.quantization().weightBits() + "A"
                    + r.quantization().activationBits()
                    + ", preprocess " + names(r.preprocess()) + ", init "
                    + r.initWeights().plugin() + "/"
                    + r.initActivations().plugin() + ", optimize " + names(r.optimize()) + ", postprocess "
                    + names(r.postprocess()) + ", backend " + r.backend().plugin() + ", seed " + r.seed();
        }

        private static String names(List<Step> steps) {
            return steps.stream().map(Step::plugin).collect(Collectors.joining(", ", "[", "]"));
        }
    }

    @Command(
            name = "schema",
            mixinStandardHelpOptions = true,
            description =
                    "Print the JSON Schema of recipe files, generated from the option types of the plugins found.")
    static final class Schema implements Callable<Integer> {
        private final Supplier<Kernel> kernel;

        @Spec
        CommandSpec spec;

        @Option(
                names = {"-o", "--output"},
                description = "write to this file instead of standard output")
        Path output;

        Schema(Supplier<Kernel> kernel) {
            this.kernel = kernel;
        }

        @Override
        public Integer call() throws IOException {
            String schema = kernel.get().schema().generate();
            if (output != null) {
                Files.writeString(output, schema + "\n", StandardCharsets.UTF_8);
                spec.commandLine().getOut().println("wrote " + output);
            } else {
                spec.commandLine().getOut().println(schema);
            }
            spec.commandLine().getOut().flush();
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List the bundled recipes.")
    static final class ListBundled implements Runnable {
        @Spec
        CommandSpec spec;

        @Override
        public void run() {
            BundledRecipes.names().forEach(spec.commandLine().getOut()::println);
            spec.commandLine().getOut().flush();
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "Print a bundled recipe's YAML.")
    static final class Show implements Runnable {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "NAME", description = "bundled recipe name (see 'recipe list')")
        String name;

        @Override
        public void run() {
            spec.commandLine().getOut().print(BundledRecipes.yaml(name));
            spec.commandLine().getOut().flush();
        }
    }
}
