package io.tinyptq.api.spi;

import java.util.Locale;

/**
 * The service interfaces a plugin can provide: the four pipeline stages of Zhuo et al. 2022 (Figure 2) plus
 * compute backends, integer runtimes, model formats and datasets.
 */
public enum PluginKind {
    PREPROCESS(Preprocessor.class, "FP model preprocessing (step 1)"),
    INIT(QuantizerInitializer.class, "quantizer initialization (step 2)"),
    OPTIMIZE(QuantOptimizer.class, "quantization optimization (step 3)"),
    POSTPROCESS(Postprocessor.class, "LP model post-processing (step 4)"),
    BACKEND(ComputeBackend.class, "compute backend"),
    INTEGER(IntegerRuntime.class, "integer runtime"),
    FORMAT(ModelFormat.class, "model format"),
    CODEGEN(CodeGenerator.class, "code generator"),
    DATASET(DatasetProvider.class, "dataset");

    private final Class<?> service;
    private final String title;

    PluginKind(Class<?> service, String title) {
        this.service = service;
        this.title = title;
    }

    /** The SPI interface a provider of this kind implements. */
    public Class<?> service() {
        return service;
    }

    public String title() {
        return title;
    }

    /** The lower-case name used in recipes and messages ({@code preprocess}, {@code init}, ...). */
    public String key() {
        return name().toLowerCase(Locale.ROOT);
    }
}
