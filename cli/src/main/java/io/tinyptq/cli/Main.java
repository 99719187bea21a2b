package io.tinyptq.cli;

import io.tinyptq.api.TinyPtqException;
import io.tinyptq.kernel.Kernel;
import io.tinyptq.kernel.Versions;
import io.tinyptq.recipes.UnknownRecipeException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code tinyptq}: low-precision post-training quantization for tinyML networks. */
@Command(
        name = "tinyptq",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = "Low-precision (2-8 bit) post-training quantization of tinyML networks, composed from plugins.",
        subcommands = {
            PluginsCommand.class,
            RecipeCommand.class,
            RunCommand.class,
            TrainCommand.class,
            InfoCommand.class,
            EvalCommand.class,
            ExportCommand.class,
            VerifyCommand.class,
            SweepCommand.class,
            ReportCommand.class,
            CommandLine.HelpCommand.class
        })
public final class Main {

    /** Builds the command line; {@code kernel} is created on first use so that --help stays fast. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main(), new Factory());
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setExecutionExceptionHandler((ex, line, parseResult) -> failed(ex, line.getErr()));
        return cl;
    }

    /** Exit status of a user's mistake (input, recipe, data, option). */
    static final int MISTAKE = 2;
    /** Exit status of an unexpected error: a bug in tinyptq. */
    static final int BUG = 1;

    /**
     * A user's mistake (input, recipe, data) is one line and exit status {@value #MISTAKE}; anything else is a bug:
     * its stack trace, then one line asking for a report, and exit status {@value #BUG}.
     */
    static int failed(Exception ex, PrintWriter err) {
        if (ex instanceof TinyPtqException || ex instanceof UnknownRecipeException) {
            err.println("error: " + ex.getMessage());
            err.flush();
            return MISTAKE;
        }
        ex.printStackTrace(err);
        err.println("tinyptq " + Versions.tinyptq() + " stopped on an unexpected "
                + ex.getClass().getName()
                + ": this is a bug in tinyptq, not a mistake of yours; please report it with the command line and the"
                + " trace above");
        err.flush();
        return BUG;
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"tinyptq " + Versions.tinyptq(), "Java " + Versions.java(), Versions.os()};
        }
    }

    /** Hands commands one shared kernel, discovered lazily. */
    static final class Factory implements CommandLine.IFactory {
        private Kernel kernel;

        Kernel kernel() {
            if (kernel == null) {
                kernel = Kernel.discover();
            }
            return kernel;
        }

        @Override
        public <K> K create(Class<K> cls) throws Exception {
            if (cls == PluginsCommand.class) {
                return cls.cast(new PluginsCommand(this::kernel));
            }
            if (cls == TrainCommand.class) {
                return cls.cast(new TrainCommand(this::kernel));
            }
            if (cls == RunCommand.class) {
                return cls.cast(new RunCommand(this::kernel));
            }
            if (cls == SweepCommand.class) {
                return cls.cast(new SweepCommand(this::kernel));
            }
            if (cls == InfoCommand.class) {
                return cls.cast(new InfoCommand(this::kernel));
            }
            if (cls == ExportCommand.class) {
                return cls.cast(new ExportCommand(this::kernel));
            }
            if (cls == VerifyCommand.class) {
                return cls.cast(new VerifyCommand(this::kernel));
            }
            if (cls == EvalCommand.class) {
                return cls.cast(new EvalCommand(this::kernel));
            }
            if (cls == RecipeCommand.Validate.class) {
                return cls.cast(new RecipeCommand.Validate(this::kernel));
            }
            if (cls == RecipeCommand.Schema.class) {
                return cls.cast(new RecipeCommand.Schema(this::kernel));
            }
            return CommandLine.defaultFactory().create(cls);
        }
    }
}
