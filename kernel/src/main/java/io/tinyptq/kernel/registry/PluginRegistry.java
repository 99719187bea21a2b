package io.tinyptq.kernel.registry;

import io.tinyptq.api.spi.Plugin;
import io.tinyptq.api.spi.PluginKind;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Every plugin of every {@link PluginKind}, looked up by name.
 *
 * <p>Discovery uses {@link ServiceLoader}: on the module path through {@code provides} clauses, on the class path
 * through {@code META-INF/services} files. Discovery can also be skipped and providers passed in directly
 * ({@link #of(Collection)}), which tests and embedding applications use.
 *
 * <p>Names must match {@value #NAME_RULE} and be unique within a kind; a clash fails at construction naming
 * both classes, so a broken plugin set is found before any work starts.
 */
public final class PluginRegistry {
    /** The naming rule for provider names. */
    public static final String NAME_RULE = "^[a-z][a-z0-9_-]*$";

    private static final Pattern NAME = Pattern.compile(NAME_RULE);
    private static final System.Logger LOG = System.getLogger(PluginRegistry.class.getName());

    private final Map<PluginKind, Map<String, Plugin<?>>> byKind = new EnumMap<>(PluginKind.class);

    private PluginRegistry(Collection<? extends Plugin<?>> providers) {
        for (PluginKind kind : PluginKind.values()) {
            byKind.put(kind, new TreeMap<>());
        }
        for (Plugin<?> p : providers) {
            List<PluginKind> kinds = kindsOf(p);
            if (kinds.isEmpty()) {
                throw new PluginConflictException(p.getClass().getName() + " implements no tinyptq SPI (" + "one of "
                        + List.of(PluginKind.values()) + ")");
            }
            for (PluginKind kind : kinds) {
                register(kind, p);
            }
        }
    }

    /** Discovers providers visible to the class loader and module layer that loaded the kernel. */
    public static PluginRegistry discover() {
        return discover(PluginRegistry.class.getClassLoader());
    }

    /** Discovers providers through {@code META-INF/services} and {@code provides} visible from {@code loader}. */
    public static PluginRegistry discover(ClassLoader loader) {
        List<Plugin<?>> found = new ArrayList<>();
        for (PluginKind kind : PluginKind.values()) {
            load(ServiceLoader.load(kind.service(), loader), found);
        }
        return logged(new PluginRegistry(dedupe(found)));
    }

    /** Discovers providers in {@code layer} and its parents (module path plugins loaded at run time). */
    public static PluginRegistry discover(ModuleLayer layer) {
        List<Plugin<?>> found = new ArrayList<>();
        for (PluginKind kind : PluginKind.values()) {
            load(ServiceLoader.load(layer, kind.service()), found);
        }
        return logged(new PluginRegistry(dedupe(found)));
    }

    /** A registry of exactly these providers, without discovery. */
    public static PluginRegistry of(Collection<? extends Plugin<?>> providers) {
        return new PluginRegistry(providers);
    }

    private static void load(ServiceLoader<?> loader, List<Plugin<?>> into) {
        for (Object provider : loader) {
            into.add((Plugin<?>) provider);
        }
    }

    /** One object implementing two SPIs is found once per SPI; keep one instance per class. */
    private static List<Plugin<?>> dedupe(List<Plugin<?>> found) {
        Map<Class<?>, Plugin<?>> one = new LinkedHashMap<>();
        for (Plugin<?> p : found) {
            one.putIfAbsent(p.getClass(), p);
        }
        return new ArrayList<>(one.values());
    }

    private static PluginRegistry logged(PluginRegistry r) {
        LOG.log(System.Logger.Level.DEBUG, () -> "tinyptq plugins: " + r.summary());
        return r;
    }

    private static List<PluginKind> kindsOf(Plugin<?> p) {
        List<PluginKind> kinds = new ArrayList<>();
        for (PluginKind k : PluginKind.values()) {
            if (k.service().isInstance(p)) {
                kinds.add(k);
            }
        }
        return kinds;
    }

    private void register(PluginKind kind, Plugin<?> p) {
        String name = p.name();
        if (name == null || !NAME.matcher(name).matches()) {
            throw new PluginConflictException(kind.key() + " plugin "
                    + p.getClass().getName() + " has the name '" + name + "', which does not match " + NAME_RULE);
        }
        Class<?> options = p.optionsType();
        if (options == null || !options.isRecord()) {
            throw new PluginConflictException(kind.key() + " plugin '" + name + "' ("
                    + p.getClass().getName() + "): optionsType() must be a record class, found " + options);
        }
        Module owner = options.getModule();
        if (owner.isNamed() && !owner.isExported(options.getPackageName(), PluginRegistry.class.getModule())) {
            throw new PluginConflictException(kind.key() + " plugin '" + name + "': its options record "
                    + options.getName() + " is in package " + options.getPackageName() + ", which module "
                    + owner.getName() + " does not export; add 'exports " + options.getPackageName()
                    + ";' to its module-info so recipes can bind options");
        }
        Plugin<?> previous = byKind.get(kind).putIfAbsent(name, p);
        if (previous != null) {
            throw new PluginConflictException("two " + kind.key() + " plugins are named '" + name + "': "
                    + previous.getClass().getName() + " and " + p.getClass().getName()
                    + "; remove one of their jars from the path");
        }
    }

    /** The provider of {@code kind} named {@code name}; fails listing the known names of that kind. */
    public Plugin<?> find(PluginKind kind, String name) {
        Plugin<?> p = byKind.get(kind).get(name);
        if (p == null) {
            throw new PluginNotFoundException("unknown " + kind.key() + " plugin '" + name + "'; known " + kind.key()
                    + " plugins: " + names(kind) + hint(kind, name));
        }
        return p;
    }

    /** Typed lookup: the provider of {@code kind} named {@code name} as the SPI type {@code type}. */
    public <T> T find(PluginKind kind, String name, Class<T> type) {
        return type.cast(find(kind, name));
    }

    private String hint(PluginKind kind, String name) {
        String close = Suggest.closest(name, names(kind));
        return close != null
                ? " (did you mean '" + close + "'?)"
                : ". A plugin outside tinyptq is found when its jar is on the class path or module path";
    }

    /** Names of the providers of {@code kind}, sorted. */
    public List<String> names(PluginKind kind) {
        return List.copyOf(byKind.get(kind).keySet());
    }

    /** Providers of {@code kind}, sorted by name. */
    public Collection<Plugin<?>> plugins(PluginKind kind) {
        return Collections.unmodifiableCollection(byKind.get(kind).values());
    }

    /** One line: {@code preprocess=[cle, ocs], init=[minmax, mse], ...}. */
    public String summary() {
        StringBuilder sb = new StringBuilder();
        for (PluginKind k : PluginKind.values()) {
            if (!sb.isEmpty()) {
                sb.append(", ");
            }
            sb.append(k.key()).append('=').append(names(k));
        }
        return sb.toString();
    }
}
