package io.tinyptq.kernel.fakes;

import io.tinyptq.api.model.Model;
import io.tinyptq.api.model.Tensor;
import io.tinyptq.api.options.NoOptions;
import io.tinyptq.api.options.Option;
import io.tinyptq.api.quant.FakeQuant;
import io.tinyptq.api.quant.QuantParams;
import io.tinyptq.api.quant.QuantizedModel;
import io.tinyptq.api.quant.QuantizerSpec;
import io.tinyptq.api.spi.ActivationObserver;
import io.tinyptq.api.spi.Plugin;
import io.tinyptq.api.spi.Postprocessor;
import io.tinyptq.api.spi.Preprocessor;
import io.tinyptq.api.spi.QuantOptimizer;
import io.tinyptq.api.spi.QuantizerInitializer;
import io.tinyptq.api.spi.StageContext;
import io.tinyptq.kernel.registry.PluginRegistry;
import io.tinyptq.testkit.ReferenceBackend;
import java.util.ArrayList;
import java.util.List;

/** Spy plugins that record what the kernel asked of them. */
public final class Fakes {
    private Fakes() {}

    /** Every call any spy received, in order ("preprocess:spy-pre", ...). */
    public static final List<String> CALLS = new ArrayList<>();

    public enum Mode {
        FAST,
        CAREFUL
    }

    /** Options exercising every supported type and rule. */
    public record SpyOptions(
            @Option(description = "iterations per unit", min = 1, max = 100000)
            int iterations,

            @Option(description = "learning rate", min = 0) double learningRate,
            @Option(description = "a mode") Mode mode,
            @Option(description = "a flag") boolean verbose,

            @Option(description = "a label", pattern = "[a-z]+")
            String label,

            @Option(description = "optional cap", min = 1) Integer cap,
            @Option(description = "layers to skip") List<String> skip) {
        public static final SpyOptions DEFAULTS = new SpyOptions(100, 0.001, Mode.FAST, false, "spy", null, List.of());
    }

    abstract static class Spy implements Plugin<SpyOptions> {
        @Override
        public Class<SpyOptions> optionsType() {
            return SpyOptions.class;
        }

        @Override
        public SpyOptions defaultOptions() {
            return SpyOptions.DEFAULTS;
        }
    }

    public static class SpyPreprocessor extends Spy implements Preprocessor<SpyOptions> {
        @Override
        public String name() {
            return "spy-pre";
        }

        @Override
        public Model apply(Model model, SpyOptions options, StageContext context) {
            CALLS.add("preprocess:" + name() + ":" + options.iterations());
            return model;
        }
    }

    public static final class SpyOptimizer extends Spy implements QuantOptimizer<SpyOptions> {
        @Override
        public String name() {
            return "spy-opt";
        }

        @Override
        public void optimize(QuantizedModel model, SpyOptions options, StageContext context) {
            CALLS.add("optimize:" + name() + ":initialized=" + model.initialized() + ":draw="
                    + context.random("units").nextLong());
            for (int unit = 0; unit < 3; unit++) {
                context.progress().progress("spy units", unit + 1, 3);
                context.checkCancelled();
            }
        }
    }

    public static final class SpyPostprocessor extends Spy implements Postprocessor<SpyOptions> {
        @Override
        public String name() {
            return "spy-post";
        }

        @Override
        public void apply(QuantizedModel model, SpyOptions options, StageContext context) {
            CALLS.add("postprocess:" + name());
        }
    }

    /** MinMax on the absolute maximum, written independently of the real plugin. */
    public static final class AbsMaxInit implements QuantizerInitializer<NoOptions> {
        @Override
        public String name() {
            return "absmax";
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
        public QuantParams initWeights(Tensor weight, QuantizerSpec spec, NoOptions options) {
            float m = 0;
            for (float v : weight.data()) {
                m = Math.max(m, Math.abs(v));
            }
            int channels = spec.granularity() == io.tinyptq.api.quant.Granularity.PER_CHANNEL
                    ? weight.shape().dim(spec.channelAxis())
                    : 1;
            float[] s = new float[channels];
            java.util.Arrays.fill(s, FakeQuant.fromRange(-m, m, spec)[0]);
            float[] z = new float[channels];
            java.util.Arrays.fill(z, FakeQuant.fromRange(-m, m, spec)[1]);
            return new QuantParams(s, z);
        }

        @Override
        public ActivationObserver newObserver(QuantizerSpec spec, NoOptions options) {
            return new ActivationObserver() {
                float lo;
                float hi;
                int seen;

                @Override
                public void observe(float[] values, int offset, int length) {
                    for (int i = offset; i < offset + length; i++) {
                        lo = Math.min(lo, values[i]);
                        hi = Math.max(hi, values[i]);
                    }
                    seen += length;
                }

                @Override
                public QuantParams result() {
                    float[] sz = FakeQuant.fromRange(lo, hi, spec);
                    return new QuantParams(new float[] {sz[0]}, new float[] {sz[1]});
                }
            };
        }
    }

    /** Named like another provider, to provoke a conflict. */
    public static final class AnotherSpyPre extends Spy implements Preprocessor<SpyOptions> {
        @Override
        public String name() {
            return "spy-pre";
        }

        @Override
        public Model apply(Model model, SpyOptions options, StageContext context) {
            return model;
        }
    }

    public static PluginRegistry registry() {
        return PluginRegistry.of(List.of(
                new SpyPreprocessor(),
                new SpyOptimizer(),
                new SpyPostprocessor(),
                new AbsMaxInit(),
                new ReferenceBackend()));
    }
}
