package com.example.ptq;

import io.tinyptq.api.model.Model;
import io.tinyptq.api.options.Option;
import io.tinyptq.api.spi.Preprocessor;
import io.tinyptq.api.spi.StageContext;

/** A plugin written outside tinyptq: returns the model unchanged. */
public final class IdentityPreprocessor implements Preprocessor<IdentityPreprocessor.Options> {

    public record Options(@Option(description = "how many times to do nothing", min = 0) int times) {
    }

    @Override
    public String name() {
        return "identity";
    }

    @Override
    public String description() {
        return "returns the model unchanged (third-party example)";
    }

    @Override
    public Class<Options> optionsType() {
        return Options.class;
    }

    @Override
    public Options defaultOptions() {
        return new Options(1);
    }

    @Override
    public Model apply(Model model, Options options, StageContext context) {
        return model;
    }
}
