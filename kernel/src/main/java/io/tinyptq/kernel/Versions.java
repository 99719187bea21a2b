package io.tinyptq.kernel;

/** Software versions recorded in provenance and printed by {@code --version}. */
public final class Versions {
    private Versions() {}

    /** tinyptq's version: the kernel module's or jar's version, or {@code dev} when run from classes. */
    public static String tinyptq() {
        Module m = Versions.class.getModule();
        if (m.isNamed() && m.getDescriptor().version().isPresent()) {
            return m.getDescriptor().version().get().toString();
        }
        String v = Versions.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }

    public static String java() {
        return Runtime.version() + " (" + System.getProperty("java.vendor") + ")";
    }

    public static String os() {
        return System.getProperty("os.name") + " " + System.getProperty("os.arch") + ", "
                + Runtime.getRuntime().availableProcessors() + " cpus";
    }
}
