package io.tinyptq.api.spi;

import io.tinyptq.api.integer.IntegerModel;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Writes a fully-integer model as source code for a device (a C project for microcontrollers), builds that code
 * for a platform and runs the program on samples, so that its outputs can be checked against an
 * {@link IntegerRuntime}, the oracle.
 *
 * <p>The program's I/O is one signed byte per element: the model input's int8 codes in, the model output's int8
 * codes out, samples back to back, whatever bit-width the tensors are stored at inside the program.
 */
public interface CodeGenerator<O extends Record> extends Plugin<O> {

    /** The platforms {@link #build} accepts; the first is the default. */
    List<String> platforms();

    /**
     * Writes the project that computes {@code model} into the folder {@code dir} (created if missing). A model the
     * generated code cannot compute exactly fails with {@link io.tinyptq.api.InvalidModelException} naming the layer
     * or tensor and what was expected.
     */
    GeneratedCode generate(IntegerModel model, Path dir, O options);

    /**
     * What {@link #generate} would lay out for {@code model}, without writing a file: the device's memory for the
     * model, reported by {@code info} and {@code run} next to the paper-style estimate. Fails as {@link #generate}
     * does.
     */
    GeneratedCode layout(IntegerModel model, O options);

    /**
     * The integer runtime's options ({@code KEY=VALUE}, as {@code --runtime-option} takes them) under which it
     * computes exactly what the project in {@code dir} computes: the oracle {@code verify} compares the program with.
     */
    List<String> runtimeOptions(Path dir);

    /**
     * Builds the project in {@code dir} for {@code platform}. A missing compiler or emulator fails with
     * {@link io.tinyptq.api.TinyPtqException} naming the package that provides it.
     */
    Program build(Path dir, String platform, O options);

    /**
     * What the generator laid out.
     *
     * @param flashBytes bytes of the model's constants (packed weights, biases, requantization parameters)
     * @param arenaBytes bytes of the one activation arena, the model's peak RAM for tensors
     * @param tensorBits the bit-width each activation tensor and each weight tensor is stored at
     */
    record GeneratedCode(long flashBytes, long arenaBytes, Map<String, Integer> tensorBits) {
        public GeneratedCode {
            tensorBits = Map.copyOf(tensorBits);
        }
    }

    /** A built program. */
    interface Program {
        /** Runs {@code samples} inputs ({@code samples * inputSize} int8 codes) and returns their output codes. */
        Run run(byte[] inputs, int samples);

        /**
         * What the platform measures of the binary: {@code flash_bytes} and {@code ram_bytes} of the image where the
         * platform has them; empty on the host.
         */
        Map<String, Long> sizes();
    }

    /**
     * One run's outputs and, where the platform counts them, the instructions each inference executed (else an
     * empty array).
     */
    record Run(byte[] outputs, long[] instructions) {}
}
