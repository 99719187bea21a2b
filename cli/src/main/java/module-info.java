/** The {@code tinyptq} command line. */
module io.tinyptq.cli {
    requires io.tinyptq.kernel;
    requires io.tinyptq.recipes;
    requires io.tinyptq.zoo;
    requires io.tinyptq.sweep;
    requires info.picocli;

    // Plugins ship in their own modules; the CLI names none of them, ServiceLoader finds them on the module path.
    opens io.tinyptq.cli to
            info.picocli;
}
