package io.tinyptq.deploy.c;

import io.tinyptq.api.integer.IntegerModel;
import io.tinyptq.api.options.NoOptions;
import io.tinyptq.api.spi.CodeGenerator;
import java.nio.file.Path;
import java.util.List;

/** The {@code c} code generator (work in progress). */
public final class CCodeGenerator implements CodeGenerator<NoOptions> {
    @Override
    public String name() {
        return "c";
    }

    @Override
    public Class<NoOptions> optionsType() {
        return NoOptions.class;
    }

    @Override
    public NoOptions defaultOptions() {
        return NoOptions.INSTANCE;
    }

    @Override
    public List<String> platforms() {
        return List.of("host", "cortex-m4");
    }

    @Override
    public GeneratedCode generate(IntegerModel model, Path dir, NoOptions options) {
        throw new UnsupportedOperationException("not yet");
    }

    @Override
    public Program build(Path dir, String platform, NoOptions options) {
        throw new UnsupportedOperationException("not yet");
    }
}
