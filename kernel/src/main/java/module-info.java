/**
 * The tinyptq microkernel: finds plugins ({@link io.tinyptq.kernel.registry.PluginRegistry}), binds and
 * validates their typed options, loads YAML recipes strictly, publishes the recipe JSON Schema and runs the
 * four-stage pipeline with progress, cancellation and provenance. Guice wires these services; plugins never
 * see Guice or Jackson.
 */
module io.tinyptq.kernel {
    requires transitive io.tinyptq.api;
    requires com.google.guice;
    requires jakarta.inject;
    requires com.fasterxml.jackson.core;
    requires com.fasterxml.jackson.databind;
    requires com.fasterxml.jackson.dataformat.yaml;
    requires org.yaml.snakeyaml;

    exports io.tinyptq.kernel;
    exports io.tinyptq.kernel.registry;
    exports io.tinyptq.kernel.options;
    exports io.tinyptq.kernel.recipe;
    exports io.tinyptq.kernel.pipeline;
    exports io.tinyptq.kernel.store;
    exports io.tinyptq.kernel.run;
    exports io.tinyptq.kernel.train;
    exports io.tinyptq.kernel.stats;
    exports io.tinyptq.kernel.data;
    exports io.tinyptq.kernel.eval;
    exports io.tinyptq.kernel.deploy;

    opens io.tinyptq.kernel to
            com.google.guice;
    opens io.tinyptq.kernel.registry to
            com.google.guice;
    opens io.tinyptq.kernel.recipe to
            com.google.guice;
    opens io.tinyptq.kernel.pipeline to
            com.google.guice;

    uses io.tinyptq.api.spi.Preprocessor;
    uses io.tinyptq.api.spi.QuantizerInitializer;
    uses io.tinyptq.api.spi.QuantOptimizer;
    uses io.tinyptq.api.spi.Postprocessor;
    uses io.tinyptq.api.spi.ComputeBackend;
    uses io.tinyptq.api.spi.IntegerRuntime;
    uses io.tinyptq.api.spi.ModelFormat;
    uses io.tinyptq.api.spi.CodeGenerator;
    uses io.tinyptq.api.spi.DatasetProvider;
}
