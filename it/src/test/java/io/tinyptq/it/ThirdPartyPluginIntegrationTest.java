package io.tinyptq.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyptq.api.model.Model;
import io.tinyptq.api.quant.QuantizedModel;
import io.tinyptq.api.spi.CalibrationSet;
import io.tinyptq.api.spi.ModelExecutor;
import io.tinyptq.api.spi.Plugin;
import io.tinyptq.api.spi.PluginKind;
import io.tinyptq.api.spi.ProgressListener;
import io.tinyptq.backend.cpu.CpuBackend;
import io.tinyptq.kernel.Kernel;
import io.tinyptq.kernel.pipeline.CancellationToken;
import io.tinyptq.kernel.pipeline.RunOptions;
import io.tinyptq.kernel.recipe.Recipe;
import io.tinyptq.kernel.registry.PluginRegistry;
import io.tinyptq.testkit.TinyModels;
import java.io.File;
import java.io.IOException;
import java.lang.module.Configuration;
import java.lang.module.ModuleFinder;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A plugin developed outside this repository's modules, compiled here from
 * {@code src/test/resources/thirdparty} into its own jar (with a {@code module-info} that {@code provides} the
 * SPI, and a {@code META-INF/services} file), is found with no change to the kernel: on the module path and on
 * the class path. The README's "Writing a plugin" section walks through the same steps.
 */
class ThirdPartyPluginIntegrationTest {
    @TempDir
    static Path tmp;

    static Path pluginJar;

    @BeforeAll
    static void buildPluginJar() throws Exception {
        Path src = Path.of(ThirdPartyPluginIntegrationTest.class
                        .getResource("/thirdparty/module-info.java")
                        .toURI())
                .getParent();
        Path classes = Files.createDirectories(tmp.resolve("classes"));
        List<String> args = new ArrayList<>(List.of(
                "--release",
                "25",
                "-d",
                classes.toString(),
                "--module-path",
                location(Plugin.class).toString()));
        try (Stream<Path> files = Files.walk(src)) {
            files.filter(p -> p.toString().endsWith(".java")).forEach(p -> args.add(p.toString()));
        }
        int rc = ToolProvider.getSystemJavaCompiler().run(null, null, null, args.toArray(String[]::new));
        assertEquals(0, rc, "javac of the third-party plugin failed");
        pluginJar = tmp.resolve("example-ptq-plugin.jar");
        try (JarOutputStream jar = new JarOutputStream(Files.newOutputStream(pluginJar));
                Stream<Path> files = Files.walk(classes)) {
            for (Path p : files.filter(Files::isRegularFile).toList()) {
                jar.putNextEntry(new JarEntry(classes.relativize(p).toString().replace(File.separatorChar, '/')));
                Files.copy(p, jar);
                jar.closeEntry();
            }
            jar.putNextEntry(new JarEntry("META-INF/services/io.tinyptq.api.spi.Preprocessor"));
            jar.write("com.example.ptq.IdentityPreprocessor\n".getBytes(StandardCharsets.UTF_8));
            jar.closeEntry();
            jar.putNextEntry(new JarEntry("META-INF/services/io.tinyptq.api.spi.QuantOptimizer"));
            jar.write("com.example.ptq.SignRoundingOptimizer\n".getBytes(StandardCharsets.UTF_8));
            jar.closeEntry();
        }
    }

    static Path location(Class<?> c) throws URISyntaxException {
        return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI());
    }

    @Test
    void foundOnTheClassPathThroughMetaInfServices() throws IOException {
        try (URLClassLoader loader = new URLClassLoader(
                new URL[] {pluginJar.toUri().toURL()}, getClass().getClassLoader())) {
            PluginRegistry registry = PluginRegistry.discover(loader);
            Plugin<?> p = registry.find(PluginKind.PREPROCESS, "identity");
            assertEquals("com.example.ptq.IdentityPreprocessor", p.getClass().getName());
            // The bundled plugins are still there next to it.
            assertTrue(registry.names(PluginKind.INIT).containsAll(List.of("minmax", "mse")));
        }
    }

    @Test
    void foundOnTheModulePathThroughProvides() throws Exception {
        List<Path> path = new ArrayList<>();
        path.add(pluginJar);
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            // Runtime modules only: test libraries are automatic modules that would clash on the module path.
            if (!entry.matches(".*(junit|opentest4j|apiguardian|archunit|surefire|test-classes|slf4j).*")) {
                path.add(Path.of(entry));
            }
        }
        ModuleFinder finder = ModuleFinder.of(path.toArray(Path[]::new));
        Configuration cf = ModuleLayer.boot()
                .configuration()
                .resolveAndBind(finder, ModuleFinder.of(), Set.of("io.tinyptq.kernel", "com.example.ptq"));
        ModuleLayer layer = ModuleLayer.boot().defineModulesWithOneLoader(cf, ClassLoader.getPlatformClassLoader());
        assertTrue(layer.findModule("com.example.ptq").isPresent());
        // The kernel of that layer is a different class from ours: call it reflectively.
        ClassLoader loader = layer.findLoader("io.tinyptq.kernel");
        Class<?> registryType = loader.loadClass("io.tinyptq.kernel.registry.PluginRegistry");
        Object registry = registryType.getMethod("discover", ModuleLayer.class).invoke(null, layer);
        String summary = (String) registryType.getMethod("summary").invoke(registry);
        assertTrue(summary.matches(".*preprocess=\\[[^]]*identity.*"), summary);
        assertTrue(summary.contains("init=[minmax, mse]"), summary);
        Module plugin = layer.findModule("com.example.ptq").orElseThrow();
        assertTrue(plugin.getDescriptor().provides().stream()
                .anyMatch(p -> p.service().equals("io.tinyptq.api.spi.Preprocessor")));
    }

    /**
     * A gradient-based rounding method compiled outside the repository against the api alone (a straight-through sign
     * with a regularizer of its own), loaded by name from a recipe and run on a tiny model on the cpu backend: every
     * weight ends on its quantizer's grid, the plugin reports the loss it lowered, and its output error is below
     * rounding to nearest's.
     */
    @Test
    void aGradientBasedRoundingPluginRunsFromARecipe() throws IOException {
        try (URLClassLoader loader = new URLClassLoader(
                new URL[] {pluginJar.toUri().toURL()}, getClass().getClassLoader())) {
            Kernel kernel = Kernel.of(PluginRegistry.discover(loader));
            String common = """
                    name: third-party
                    seed: 3
                    calibration: {size: 128, batch_size: 32}
                    quantization: {weight_bits: 3, activation_bits: 8}
                    backend: cpu
                    init: {weights: minmax, activations: minmax}
                    """;
            Recipe nearest = kernel.recipes().load(common, "nearest.yaml");
            Recipe sign = kernel.recipes().load(common + """
                    optimize:
                      - plugin: sign-round
                        options: {iterations: 400, learning_rate: 1.0e-3, decay: 1.0e-4}
                    """, "sign-round.yaml");
            Model model = TinyModels.unbalancedChain(11);
            float[] data = TinyModels.uniform(12, 128, model.shape("x"), -1f, 1f);
            CalibrationSet calib = new CalibrationSet("uniform(seed 12)", model.shape("x"), data, new int[0]);
            List<String> messages = new ArrayList<>();
            QuantizedModel rounded = kernel.runner()
                    .run(sign, model, calib, new RunOptions(messagesTo(messages), new CancellationToken(), null))
                    .quantized();
            QuantizedModel plain = kernel.runner()
                    .run(nearest, model, calib, RunOptions.defaults())
                    .quantized();
            assertTrue(messages.stream().anyMatch(m -> m.startsWith("sign-round: loss")), messages.toString());
            ReconstructionIntegrationTest.assertOnGrid(rounded);
            double signError = outputError(rounded, model, data);
            double nearestError = outputError(plain, model, data);
            assertTrue(signError < nearestError, "output error " + nearestError + " nearest, " + signError + " sign");
        }
    }

    static ProgressListener messagesTo(List<String> messages) {
        return new ProgressListener() {
            @Override
            public void progress(String task, long done, long total) {}

            @Override
            public void message(String text) {
                messages.add(text);
            }
        };
    }

    static double outputError(QuantizedModel qm, Model fp, float[] x) {
        int n = x.length / fp.shape("x").size();
        var cpu = new CpuBackend();
        try (ModelExecutor f = cpu.compile(fp, null, n, new CpuBackend.Options(1));
                ModelExecutor q = cpu.compile(qm.model(), qm, n, new CpuBackend.Options(1))) {
            float[] a = f.forward(x, n, ModelExecutor.ActivationListener.NONE);
            float[] b = q.forward(x, n, ModelExecutor.ActivationListener.NONE);
            double s = 0;
            for (int i = 0; i < a.length; i++) {
                s += (a[i] - b[i]) * (double) (a[i] - b[i]);
            }
            return s / a.length;
        }
    }
}
