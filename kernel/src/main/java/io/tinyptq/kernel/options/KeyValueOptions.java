package io.tinyptq.kernel.options;

import io.tinyptq.api.TinyPtqException;
import io.tinyptq.api.spi.Plugin;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.List;

/**
 * A plugin's options from {@code KEY=VALUE} pairs given on the command line (each value read as YAML, as in a
 * recipe), bound and validated like a recipe's options section: an unknown key, a value of the wrong type or out
 * of range fails naming it, with what was expected.
 */
public final class KeyValueOptions {
    private KeyValueOptions() {}

    public static <O extends Record> O bind(Plugin<O> plugin, List<String> pairs, String source) {
        StringBuilder yaml = new StringBuilder();
        for (String pair : pairs) {
            int eq = pair.indexOf('=');
            if (eq <= 0) {
                throw new TinyPtqException(source + " '" + pair + "': expected KEY=VALUE");
            }
            yaml.append(pair, 0, eq).append(": ").append(pair.substring(eq + 1)).append('\n');
        }
        List<OptionProblem> problems = new ArrayList<>();
        O options = new OptionBinder(source + " of plugin '" + plugin.name() + "'", problems)
                .bind(
                        plugin.optionsType(),
                        YamlNode.parse(new StringReader(yaml.toString()), source),
                        plugin.defaultOptions());
        if (options == null) {
            throw new OptionsException(source, problems);
        }
        return options;
    }
}
