package io.tinyptq.cli;

import io.tinyptq.api.spi.Plugin;
import io.tinyptq.api.spi.PluginKind;
import io.tinyptq.kernel.Kernel;
import io.tinyptq.kernel.options.OptionField;
import io.tinyptq.kernel.options.OptionValues;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code tinyptq plugins}: every discovered plugin with its options, defaults and rules. */
@Command(
        name = "plugins",
        mixinStandardHelpOptions = true,
        description = "List every discovered plugin by stage: name, version, class, and each option with its default,"
                + " rule and description.")
final class PluginsCommand implements Runnable {
    private final Supplier<Kernel> kernel;

    @Spec
    CommandSpec spec;

    @Option(names = "--kind", description = "only this kind: ${COMPLETION-CANDIDATES}")
    PluginKind kind;

    PluginsCommand(Supplier<Kernel> kernel) {
        this.kernel = kernel;
    }

    @Override
    public void run() {
        PrintWriter out = spec.commandLine().getOut();
        for (PluginKind k : kind == null ? List.of(PluginKind.values()) : List.of(kind)) {
            var plugins = kernel.get().registry().plugins(k);
            out.printf("%s — %s%n", k.key(), k.title());
            if (plugins.isEmpty()) {
                out.println("  (none found)");
            }
            for (Plugin<?> p : plugins) {
                describe(out, p);
            }
            out.println();
        }
        out.flush();
    }

    private static <O extends Record> void describe(PrintWriter out, Plugin<O> p) {
        out.printf("  %s %s  (%s)%n", p.name(), p.version(), p.getClass().getName());
        if (!p.description().isEmpty()) {
            out.printf("      %s%n", p.description());
        }
        List<String[]> rows = new ArrayList<>();
        options(rows, p.defaultOptions(), "");
        int width =
                Math.max(16, rows.stream().mapToInt(r -> r[0].length()).max().orElse(0));
        for (String[] r : rows) {
            out.printf("      %-" + width + "s %s%n", r[0], r[1]);
        }
    }

    /** A row (key, the rest) per option; a nested record's keys follow its own row as {@code record.key}. */
    private static void options(List<String[]> rows, Record defaults, String prefix) {
        for (OptionField f : OptionField.of(defaults.getClass())) {
            Object value = f.get(defaults);
            if (value instanceof Record nested) {
                rows.add(new String[] {prefix + f.key() + ":", f.description()});
                options(rows, nested, prefix + f.key() + ".");
                continue;
            }
            Object d = OptionValues.plain(value);
            rows.add(new String[] {
                prefix + f.key(),
                String.format(
                        "%-22s default %-10s %s%s", f.typeName(), d == null ? "(none)" : d, rule(f), f.description())
            });
        }
    }

    private static String rule(OptionField f) {
        boolean lo = Double.isFinite(f.min());
        boolean hi = Double.isFinite(f.max());
        String r = lo && hi
                ? "[" + num(f.min()) + ".." + num(f.max()) + "] "
                : lo ? ">= " + num(f.min()) + " " : hi ? "<= " + num(f.max()) + " " : "";
        return r + (f.pattern().isEmpty() ? "" : "matches " + f.pattern() + " ");
    }

    private static String num(double d) {
        return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
    }
}
