package io.tinyptq.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyptq.api.spi.Plugin;
import io.tinyptq.api.spi.PluginKind;
import io.tinyptq.kernel.registry.PluginRegistry;
import java.io.File;
import java.io.IOException;
import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.lang.module.ModuleReference;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * Each tinyptq module is a named JPMS module, and what its {@code provides} clauses declare (module path) equals
 * what its {@code META-INF/services} files declare (class path) and what {@link java.util.ServiceLoader} finds.
 */
class ModuleDescriptorsTest {

    /** tinyptq's own modules among the test class path entries. */
    static Map<String, ModuleReference> tinyptqModules() {
        Map<String, ModuleReference> modules = new TreeMap<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path p = Path.of(entry);
            if (!entry.contains("tinyptq") || entry.contains("test-classes") || !Files.exists(p)) {
                continue;
            }
            ModuleFinder.of(p)
                    .findAll()
                    .forEach(ref -> modules.put(ref.descriptor().name(), ref));
        }
        return modules;
    }

    @Test
    void everyModuleIsNamedAfterItsFolder() {
        Set<String> names = tinyptqModules().keySet();
        assertTrue(
                names.containsAll(List.of(
                        "io.tinyptq.api",
                        "io.tinyptq.kernel",
                        "io.tinyptq.plugins.init",
                        "io.tinyptq.plugins.preprocess",
                        "io.tinyptq.plugins.optimize",
                        "io.tinyptq.plugins.postprocess",
                        "io.tinyptq.backend.cpu",
                        "io.tinyptq.recipes",
                        "io.tinyptq.cli",
                        "io.tinyptq.testkit",
                        "io.tinyptq.plugins.formats",
                        "io.tinyptq.plugins.datasets",
                        "io.tinyptq.integer")),
                names.toString());
        for (var ref : tinyptqModules().values()) {
            assertFalse(ref.descriptor().isAutomatic(), ref.descriptor().name() + " has no module-info");
        }
    }

    @Test
    void providesClausesMatchMetaInfServicesAndServiceLoader() throws IOException {
        Map<String, Set<String>> declared = new HashMap<>();
        for (ModuleReference ref : tinyptqModules().values()) {
            ModuleDescriptor d = ref.descriptor();
            Map<String, Set<String>> provides = new TreeMap<>();
            d.provides().forEach(p -> provides.put(p.service(), new TreeSet<>(p.providers())));
            Map<String, Set<String>> services = new TreeMap<>();
            try (var reader = ref.open()) {
                for (String res : reader.list()
                        .filter(r -> r.startsWith("META-INF/services/") && !r.endsWith("/"))
                        .toList()) {
                    String text = new String(reader.read(res).orElseThrow().array(), StandardCharsets.UTF_8);
                    Set<String> lines = new TreeSet<>();
                    text.lines()
                            .map(l -> l.replaceAll("#.*", "").strip())
                            .filter(l -> !l.isEmpty())
                            .forEach(lines::add);
                    services.put(res.substring("META-INF/services/".length()), lines);
                }
            }
            assertEquals(provides, services, d.name() + ": 'provides' in module-info and META-INF/services disagree");
            provides.forEach((svc, impls) ->
                    declared.computeIfAbsent(svc, k -> new HashSet<>()).addAll(impls));
        }
        PluginRegistry registry = PluginRegistry.discover();
        for (PluginKind kind : PluginKind.values()) {
            Set<String> found = new TreeSet<>();
            registry.plugins(kind).stream()
                    .map(Plugin::getClass)
                    .map(Class::getName)
                    .forEach(found::add);
            assertEquals(
                    new TreeSet<>(declared.getOrDefault(kind.service().getName(), Set.of())),
                    found,
                    "ServiceLoader and the declared providers of " + kind.key() + " disagree");
        }
    }
}
