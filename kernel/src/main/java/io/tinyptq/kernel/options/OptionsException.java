package io.tinyptq.kernel.options;

import io.tinyptq.api.InvalidOptionException;
import java.util.List;
import java.util.stream.Collectors;

/** Every problem found in a recipe or options record, one per line. */
public class OptionsException extends InvalidOptionException {
    private final transient List<OptionProblem> problems;

    public OptionsException(String source, List<OptionProblem> problems) {
        super(
                problems.size() == 1
                        ? problems.get(0).toString()
                        : source + ": " + problems.size() + " problems:\n"
                                + problems.stream().map(p -> "  " + p).collect(Collectors.joining("\n")));
        this.problems = List.copyOf(problems);
    }

    public List<OptionProblem> problems() {
        return problems;
    }
}
