package io.tinyptq.kernel.options;

/**
 * One broken rule: where (file position, or code), which component (stage and plugin), which key path, the rule
 * and what was found.
 */
public record OptionProblem(Location location, String component, String key, String message) {
    @Override
    public String toString() {
        String head = location == Location.CODE ? "" : location + ": ";
        return head + component + (key.isEmpty() ? "" : ", key '" + key + "'") + ": " + message;
    }
}
