package io.tinyptq.kernel.options;

/** A position in a recipe file (1-based), printed {@code file:line:column} as compilers do. */
public record Location(String file, int line, int column) {
    /** For values that came from Java code rather than a file. */
    public static final Location CODE = new Location("<java>", 0, 0);

    @Override
    public String toString() {
        return line == 0 ? file : file + ":" + line + ":" + column;
    }
}
