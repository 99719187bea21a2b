package io.tinyptq.api.quant;

import io.tinyptq.api.options.Option;
import java.util.List;
import java.util.Objects;

/**
 * Where quantizers go and what they are (the recipe's {@code quantization:} section). Defaults follow the
 * paper: 8-bit, symmetric per-channel weights, asymmetric per-tensor activations.
 *
 * @param weightBits         bit-width of every layer's weight quantizer
 * @param activationBits     bit-width of every layer's input-activation quantizer
 * @param inputBits          bit-width of the quantizer on the model input (raw features such as MFCCs collapse
 *                           when quantized as coarsely as the layers)
 * @param weightGranularity  per channel (paper) or per tensor (ablation)
 * @param weightSymmetry     symmetric (paper) or asymmetric
 * @param activationSymmetry asymmetric (paper) or symmetric
 * @param overrides          per-layer bit-widths by layer name
 * @param target             what the quantization simulates: the paper's placement or TFLite's integer kernels
 */
public record QuantScheme(
        @Option(description = "bit-width of layer weights", min = 2, max = 8)
        int weightBits,

        @Option(description = "bit-width of layer input activations", min = 2, max = 8)
        int activationBits,

        @Option(description = "bit-width of the model input's quantizer", min = 2, max = 16)
        int inputBits,

        @Option(description = "weight quantizer granularity")
        Granularity weightGranularity,

        @Option(description = "weight quantizer symmetry") Symmetry weightSymmetry,

        @Option(description = "activation quantizer symmetry")
        Symmetry activationSymmetry,

        @Option(description = "per-layer bit-widths, by layer name")
        List<LayerBits> overrides,

        @Option(
                description = "what the quantization simulates: simulated (the paper's Figure 1 placement) or tflite"
                        + " (exactly TFLite's integer kernels, exportable as a fully-integer file)")
        QuantTarget target) {

    public static final QuantScheme DEFAULTS = new QuantScheme(
            8,
            8,
            8,
            Granularity.PER_CHANNEL,
            Symmetry.SYMMETRIC,
            Symmetry.ASYMMETRIC,
            List.of(),
            QuantTarget.SIMULATED);

    public QuantScheme {
        Objects.requireNonNull(weightGranularity);
        Objects.requireNonNull(weightSymmetry);
        Objects.requireNonNull(activationSymmetry);
        Objects.requireNonNull(target);
        overrides = List.copyOf(overrides);
    }

    /** A scheme for the paper's placement ({@link QuantTarget#SIMULATED}). */
    public QuantScheme(
            int weightBits,
            int activationBits,
            int inputBits,
            Granularity weightGranularity,
            Symmetry weightSymmetry,
            Symmetry activationSymmetry,
            List<LayerBits> overrides) {
        this(
                weightBits,
                activationBits,
                inputBits,
                weightGranularity,
                weightSymmetry,
                activationSymmetry,
                overrides,
                QuantTarget.SIMULATED);
    }

    /** This scheme simulating {@code newTarget}. */
    public QuantScheme withTarget(QuantTarget newTarget) {
        return new QuantScheme(
                weightBits,
                activationBits,
                inputBits,
                weightGranularity,
                weightSymmetry,
                activationSymmetry,
                overrides,
                newTarget);
    }

    public static QuantScheme of(int weightBits, int activationBits) {
        return new QuantScheme(
                weightBits,
                activationBits,
                8,
                Granularity.PER_CHANNEL,
                Symmetry.SYMMETRIC,
                Symmetry.ASYMMETRIC,
                List.of());
    }

    public QuantScheme withOverrides(List<LayerBits> newOverrides) {
        return new QuantScheme(
                weightBits,
                activationBits,
                inputBits,
                weightGranularity,
                weightSymmetry,
                activationSymmetry,
                newOverrides,
                target);
    }

    /**
     * Bit-widths for one layer, overriding the scheme's defaults; an absent value keeps the default.
     *
     * @param layer          the layer name as the model file gives it
     * @param weightBits     the layer's weight bit-width, or {@code null}
     * @param activationBits the bit-width of the layer's input activation, or {@code null}
     */
    public record LayerBits(
            @Option(description = "layer name as in the model file", pattern = ".+")
            String layer,

            @Option(description = "weight bit-width of this layer", min = 2, max = 8)
            Integer weightBits,

            @Option(description = "input-activation bit-width of this layer", min = 2, max = 16)
            Integer activationBits) {}
}
