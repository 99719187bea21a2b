package io.tinyptq.sweep;

import io.tinyptq.api.TinyPtqException;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.TreeMap;

/** The trial executors {@link ServiceLoader} finds, by name. */
public final class TrialExecutors {
    /** What {@code --executor} means when not given. */
    public static final String DEFAULT = "local";

    private TrialExecutors() {}

    /** Every provider found, by name; two with one name are refused, naming both classes. */
    public static Map<String, TrialExecutorProvider> providers() {
        Map<String, TrialExecutorProvider> byName = new TreeMap<>();
        for (TrialExecutorProvider p :
                ServiceLoader.load(TrialExecutorProvider.class, TrialExecutors.class.getClassLoader())) {
            TrialExecutorProvider before = byName.putIfAbsent(p.name(), p);
            if (before != null && before.getClass() != p.getClass()) {
                throw new IllegalStateException("two trial executors named '" + p.name() + "': "
                        + before.getClass().getName() + " and " + p.getClass().getName());
            }
        }
        return byName;
    }

    /** The provider named {@code name}; an unknown name fails listing the known ones. */
    public static TrialExecutorProvider find(String name) {
        Map<String, TrialExecutorProvider> all = providers();
        TrialExecutorProvider p = all.get(name);
        if (p == null) {
            throw new TinyPtqException(
                    "unknown executor '" + name + "'; known: " + String.join(", ", List.copyOf(all.keySet()))
                            + " (an executor in a jar of its own, such as spark from sweep-spark, is found"
                            + " when its jars are on the class path: bin/tinyptq adds sweep-spark/target/lib for"
                            + " --executor spark)");
        }
        return p;
    }
}
