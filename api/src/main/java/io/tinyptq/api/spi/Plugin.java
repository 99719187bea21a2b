package io.tinyptq.api.spi;

/**
 * What every provider has: a stable name that recipes use, a typed options record with defaults, and
 * metadata. Providers are discovered with {@link java.util.ServiceLoader}, so they need a public no-argument
 * constructor; construction must be cheap (no I/O, no device start-up): heavy state starts on first use.
 *
 * <p>Names are lower case, start with a letter and may contain digits, {@code -} and {@code _}
 * ({@code ^[a-z][a-z0-9_-]*$}); they are unique within a {@link PluginKind}.
 *
 * @param <O> the options record; its components carry {@link io.tinyptq.api.options.Option} rules
 * @since 0.1
 */
public interface Plugin<O extends Record> {

    /** The name recipes use to select this provider; never changes between releases. */
    String name();

    /** The record type of this provider's options ({@link io.tinyptq.api.options.NoOptions} when none). */
    Class<O> optionsType();

    /** The options used for keys a recipe leaves out; must itself pass validation. */
    O defaultOptions();

    /** One line for {@code tinyptq plugins}. */
    default String description() {
        return "";
    }

    /** The provider's version, as recorded in run provenance: module version, jar version, or {@code dev}. */
    default String version() {
        Module m = getClass().getModule();
        if (m.isNamed() && m.getDescriptor().version().isPresent()) {
            return m.getDescriptor().version().get().toString();
        }
        String v =
                getClass().getPackage() == null ? null : getClass().getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }
}
