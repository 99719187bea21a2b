package io.tinyptq.api.quant;

import io.tinyptq.api.InvalidOptionException;
import io.tinyptq.api.model.Model;
import io.tinyptq.api.model.Op;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A model with simulated quantizers inserted as in the paper's Figure 1: each layer with weights (conv,
 * depthwise, conv1d, fully connected) quantizes its weight per {@link QuantScheme} and its input activation;
 * biases stay float; each model input is quantized at {@code inputBits}. A tensor read by several layers (a
 * residual fork) has one quantizer; when per-layer overrides disagree on its bit-width the widest wins.
 *
 * <p>Under {@link QuantTarget#TFLITE} the placement is TFLite's instead (see there): every tensor the TFLite graph
 * materializes is quantized, and some of those quantizers are not free parameters: the outputs of pooling,
 * reshape and pad share their input's {@link Quantizer} object, and the softmax output's is fixed. Those tensors
 * are {@link #derivedActivations}: initialization and training leave them alone.
 *
 * <p>The model's float weights may be replaced by later stages ({@link #setModel}) as long as the graph keeps
 * its layers; quantizer parameters live in the {@link Quantizer}s. The {@link #reference} keeps the full-precision
 * model as the quantizers were inserted into it, whatever later stages store.
 */
public final class QuantizedModel {
    private Model model;
    private final Model reference;
    private final QuantScheme scheme;
    private final Map<String, Quantizer> weightQuantizers;
    private final Map<String, Quantizer> activationQuantizers;
    private final Set<String> derived;

    /** Softmax output quantization of TFLite's int8 kernel: scale 1/256, int8 zero point -128 (unsigned code 0). */
    public static final QuantParams SOFTMAX_OUTPUT = new QuantParams(new float[] {1f / 256}, new float[] {0f});

    private QuantizedModel(
            Model model,
            Model reference,
            QuantScheme scheme,
            Map<String, Quantizer> w,
            Map<String, Quantizer> a,
            Set<String> derived) {
        this.model = model;
        this.reference = reference;
        this.scheme = scheme;
        this.weightQuantizers = Collections.unmodifiableMap(w);
        this.activationQuantizers = Collections.unmodifiableMap(a);
        Set<String> d = new TreeSet<>(derived);
        d.retainAll(a.keySet());
        this.derived = Collections.unmodifiableSet(d);
    }

    /**
     * A quantized model from explicit quantizers (as a stored model reloads them); every key must name a layer
     * with weights or an activation tensor of {@code model}.
     */
    public static QuantizedModel of(
            Model model, QuantScheme scheme, Map<String, Quantizer> weights, Map<String, Quantizer> activations) {
        Map<String, Quantizer> w = new LinkedHashMap<>();
        for (Op.Layer l : model.layers()) {
            if (weights.containsKey(l.name())) {
                w.put(l.name(), weights.get(l.name()));
            }
        }
        Map<String, Quantizer> a = new LinkedHashMap<>();
        for (String t : model.activationShapes().keySet()) {
            if (activations.containsKey(t)) {
                a.put(t, activations.get(t));
            }
        }
        if (w.size() != weights.size() || a.size() != activations.size()) {
            throw new InvalidOptionException("model '" + model.name() + "' has no layer or tensor for quantizers "
                    + new java.util.TreeSet<>(weights.keySet().stream()
                            .filter(k -> !w.containsKey(k))
                            .toList())
                    + " "
                    + new java.util.TreeSet<>(activations.keySet().stream()
                            .filter(k -> !a.containsKey(k))
                            .toList()));
        }
        Set<String> derived = new TreeSet<>();
        if (scheme.target() == QuantTarget.TFLITE) {
            for (Op op : model.ops()) {
                if (tiesToInput(op) && a.containsKey(op.output())) {
                    a.put(op.output(), a.get(input(op)));
                    derived.add(op.output());
                } else if (op instanceof Op.Softmax) {
                    derived.add(op.output());
                }
            }
        }
        return new QuantizedModel(model, model, scheme, w, a, derived);
    }

    /** Ops whose TFLite int8 kernel keeps the input's quantization for its output. */
    private static boolean tiesToInput(Op op) {
        return op instanceof Op.Pool || op instanceof Op.Reshape || op instanceof Op.Pad;
    }

    private static String input(Op op) {
        return op.inputs().get(0);
    }

    /** {@code model} without any quantizer: training a full-precision model goes through the same sessions. */
    public static QuantizedModel floatOnly(Model model) {
        return new QuantizedModel(
                model, model, QuantScheme.DEFAULTS, new LinkedHashMap<>(), new LinkedHashMap<>(), Set.of());
    }

    /** Inserts uninitialized quantizers into {@code model} following {@code scheme}. */
    public static QuantizedModel simulate(Model model, QuantScheme scheme) {
        Map<String, QuantScheme.LayerBits> overrides = new LinkedHashMap<>();
        Set<String> layerNames = new TreeSet<>();
        model.layers().forEach(l -> layerNames.add(l.name()));
        for (int i = 0; i < scheme.overrides().size(); i++) {
            QuantScheme.LayerBits o = scheme.overrides().get(i);
            if (!layerNames.contains(o.layer())) {
                throw new InvalidOptionException("quantization.overrides[" + i + "].layer: model '" + model.name()
                        + "' has no layer with weights named '" + o.layer() + "'; its layers are " + layerNames);
            }
            overrides.put(o.layer(), o);
        }
        if (scheme.target() == QuantTarget.TFLITE) {
            return tflite(model, scheme, overrides);
        }
        Map<String, Quantizer> w = new LinkedHashMap<>();
        Map<String, Integer> actBits = new LinkedHashMap<>();
        for (String in : model.inputs().keySet()) {
            actBits.put(in, scheme.inputBits());
        }
        for (Op.Layer layer : model.layers()) {
            QuantScheme.LayerBits o = overrides.get(layer.name());
            int wb = o != null && o.weightBits() != null ? o.weightBits() : scheme.weightBits();
            int ab = o != null && o.activationBits() != null ? o.activationBits() : scheme.activationBits();
            w.put(
                    layer.name(),
                    new Quantizer(
                            layer.name(),
                            new QuantizerSpec(
                                    wb,
                                    scheme.weightSymmetry(),
                                    scheme.weightGranularity(),
                                    layer.weightChannelAxis())));
            if (!model.inputs().containsKey(layer.input())) {
                actBits.merge(layer.input(), ab, Math::max);
            } else if (o != null && o.activationBits() != null) {
                actBits.merge(layer.input(), ab, Math::max);
            }
        }
        Map<String, Quantizer> a = new LinkedHashMap<>();
        actBits.forEach((t, b) -> a.put(
                t, new Quantizer(t, new QuantizerSpec(b, scheme.activationSymmetry(), Granularity.PER_TENSOR, -1))));
        return new QuantizedModel(model, model, scheme, w, a, Set.of());
    }

    /**
     * TFLite's placement ({@link QuantTarget#TFLITE}); refuses what its int8 tensors cannot hold. A tensor's bit-width
     * is, as in the paper's placement, the widest its reading layers ask for (their override, else the scheme's), the
     * scheme's where no layer reads it, and the model input's {@code inputBits}; a tensor tied to another (pooling,
     * reshape, pad) widens its owner's instead.
     */
    private static QuantizedModel tflite(
            Model model, QuantScheme scheme, Map<String, QuantScheme.LayerBits> overrides) {
        if (scheme.weightSymmetry() != Symmetry.SYMMETRIC) {
            throw new InvalidOptionException("quantization.weight_symmetry: target tflite needs symmetric weights"
                    + " (TFLite's integer weights have zero point 0), got " + scheme.weightSymmetry());
        }
        requireInt8("quantization.activation_bits", scheme.activationBits());
        requireInt8("quantization.input_bits", scheme.inputBits());
        Map<String, Quantizer> w = new LinkedHashMap<>();
        Map<String, Integer> bits = new LinkedHashMap<>();
        for (String in : model.inputs().keySet()) {
            bits.put(in, scheme.inputBits());
        }
        for (Op op : model.ops()) {
            bits.put(op.output(), scheme.activationBits());
        }
        Map<String, Integer> asked = new LinkedHashMap<>();
        for (Op.Layer layer : model.layers()) {
            QuantScheme.LayerBits o = overrides.get(layer.name());
            int wb = o != null && o.weightBits() != null ? o.weightBits() : scheme.weightBits();
            w.put(
                    layer.name(),
                    new Quantizer(
                            layer.name(),
                            new QuantizerSpec(
                                    wb,
                                    Symmetry.SYMMETRIC,
                                    scheme.weightGranularity(),
                                    layer.weightChannelAxis(),
                                    true)));
            boolean override = o != null && o.activationBits() != null;
            if (override) {
                requireInt8(
                        "quantization.overrides (layer '" + layer.name() + "').activation_bits", o.activationBits());
            }
            if (override || !model.inputs().containsKey(layer.input())) {
                asked.merge(layer.input(), override ? o.activationBits() : scheme.activationBits(), Math::max);
            }
        }
        bits.putAll(asked);
        Map<String, String> owner = new LinkedHashMap<>();
        for (Op op : model.ops()) {
            if (tiesToInput(op)) {
                String root = owner.getOrDefault(input(op), input(op));
                owner.put(op.output(), root);
                bits.merge(root, bits.get(op.output()), Math::max);
            }
        }
        Map<String, Quantizer> a = new LinkedHashMap<>();
        Set<String> derived = new TreeSet<>();
        for (String in : model.inputs().keySet()) {
            a.put(in, new Quantizer(in, activation(scheme, bits.get(in))));
        }
        for (Op op : model.ops()) {
            String out = op.output();
            if (op instanceof Op.BatchNorm) {
                throw new InvalidOptionException("quantization.target: tflite has no BatchNorm kernel and BatchNorm '"
                        + op.name() + "' of model '" + model.name() + "' could not be folded into the layer before it");
            } else if (owner.containsKey(out)) {
                a.put(out, a.get(owner.get(out)));
                derived.add(out);
            } else if (op instanceof Op.Softmax) {
                Quantizer q = new Quantizer(out, QuantizerSpec.activations(8));
                q.setParams(SOFTMAX_OUTPUT);
                a.put(out, q);
                derived.add(out);
            } else {
                a.put(out, new Quantizer(out, activation(scheme, bits.get(out))));
            }
        }
        return new QuantizedModel(model, model, scheme, w, a, derived);
    }

    private static QuantizerSpec activation(QuantScheme scheme, int bits) {
        return new QuantizerSpec(bits, scheme.activationSymmetry(), Granularity.PER_TENSOR, -1);
    }

    private static void requireInt8(String key, int bits) {
        if (bits > 8) {
            throw new InvalidOptionException(key + ": target tflite stores activations and the model input in int8"
                    + " tensors, so they take 8 bits or fewer, got " + bits);
        }
    }

    /**
     * The quantizers of {@code part} (a slice of this model: same layer and tensor names), as a quantized model of
     * its own. The {@link Quantizer} objects are shared, so parameters set through the part are the whole's. Its
     * {@link #reference} is {@code part} with the constants of this model's reference.
     */
    public QuantizedModel restrict(Model part) {
        Map<String, Quantizer> w = new LinkedHashMap<>();
        Map<String, Quantizer> a = new LinkedHashMap<>();
        for (Op.Layer l : part.layers()) {
            Quantizer q = weightQuantizers.get(l.name());
            if (q != null) {
                w.put(l.name(), q);
            }
        }
        for (String t : part.activationShapes().keySet()) {
            Quantizer q = activationQuantizers.get(t);
            if (q != null) {
                a.put(t, q);
            }
        }
        Model.Builder ref = part.toBuilder();
        part.constants().keySet().stream()
                .filter(reference.constants()::containsKey)
                .forEach(c -> ref.constant(c, reference.constant(c)));
        return new QuantizedModel(part, ref.build(), scheme, w, a, derived);
    }

    /**
     * This model without the activation quantizers of {@code tensors} (the others are shared): running it shows
     * those tensors' values before quantization, as a unit whose own input quantizer is being optimized needs.
     */
    public QuantizedModel withoutActivationQuantizers(java.util.Set<String> tensors) {
        Map<String, Quantizer> a = new LinkedHashMap<>(activationQuantizers);
        a.keySet().removeAll(tensors);
        return new QuantizedModel(model, reference, scheme, weightQuantizers, a, derived);
    }

    /**
     * This model with only the weight quantizers of {@code layers} and the activation quantizers of {@code tensors}
     * (shared); the rest runs in full precision (BRECQ's model "quantized up to" a unit).
     */
    public QuantizedModel keepOnly(java.util.Set<String> layers, java.util.Set<String> tensors) {
        Map<String, Quantizer> w = new LinkedHashMap<>(weightQuantizers);
        w.keySet().retainAll(layers);
        Map<String, Quantizer> a = new LinkedHashMap<>(activationQuantizers);
        a.keySet().retainAll(tensors);
        return new QuantizedModel(model, reference, scheme, w, a, derived);
    }

    /** Replaces the constants this model shares with {@code part} by the part's values (after a part was optimized). */
    public void absorb(Model part) {
        Model.Builder b = model.toBuilder();
        for (var e : part.constants().entrySet()) {
            if (model.constants().containsKey(e.getKey())) {
                b.constant(e.getKey(), e.getValue());
            }
        }
        setModel(b.build());
    }

    public Model model() {
        return model;
    }

    /**
     * The full-precision model the quantizers were inserted into ({@link #simulate}; for {@link #of}, the model given),
     * which {@link #setModel} and {@link #absorb} leave as it was: once a stage has stored rounded weights in
     * {@link #model}, running that model without quantizers no longer computes the full-precision function, so the
     * targets of later reconstruction and of bias tuning come from here.
     */
    public Model reference() {
        return reference;
    }

    /** Replaces the float model (same layer names), e.g. after weights were optimized. */
    public void setModel(Model updated) {
        for (String layer : weightQuantizers.keySet()) {
            updated.op(layer);
        }
        this.model = updated;
    }

    public QuantScheme scheme() {
        return scheme;
    }

    /** Weight quantizers by layer name, in graph order. */
    public Map<String, Quantizer> weightQuantizers() {
        return weightQuantizers;
    }

    /** Activation quantizers by tensor name, model inputs first, then in graph order. */
    public Map<String, Quantizer> activationQuantizers() {
        return activationQuantizers;
    }

    /**
     * Tensors whose activation quantizer is not a free parameter under {@link QuantTarget#TFLITE}: tied to the
     * input's (pooling, reshape, pad) or fixed (softmax). Initializers and optimizers leave them alone; empty for
     * {@link QuantTarget#SIMULATED}.
     */
    public Set<String> derivedActivations() {
        return derived;
    }

    /**
     * Whether {@code q} is fixed by the target (the softmax output's under {@link QuantTarget#TFLITE}): no tensor
     * with a free quantizer shares it, so no stage may change it, directly or as a trained variable.
     */
    public boolean fixed(Quantizer q) {
        if (derived.isEmpty()) {
            return false;
        }
        boolean some = false;
        for (Map.Entry<String, Quantizer> e : activationQuantizers.entrySet()) {
            if (e.getValue() == q) {
                if (!derived.contains(e.getKey())) {
                    return false;
                }
                some = true;
            }
        }
        return some;
    }

    /** The activation quantizers initialization and training set: {@link #activationQuantizers} less the derived. */
    public Map<String, Quantizer> freeActivationQuantizers() {
        Map<String, Quantizer> free = new LinkedHashMap<>(activationQuantizers);
        free.keySet().removeAll(derived);
        return Collections.unmodifiableMap(free);
    }

    /**
     * Makes the parameters what the target's integer kernels store, once every stage has run: under
     * {@link QuantTarget#TFLITE} each activation zero point becomes an integer on its grid (an optimizer may have
     * moved it) and each layer's bias moves to the nearest point of its int32 grid {@code s_in * s_w[c]} (TFLite's
     * bias scale, zero point 0), so the simulation computes with the biases the integer model holds. Returns the
     * largest bias change in units of its grid step (at most 0.5); 0 for {@link QuantTarget#SIMULATED}.
     */
    public double finishForTarget() {
        if (scheme.target() != QuantTarget.TFLITE) {
            return 0;
        }
        for (Map.Entry<String, Quantizer> e : freeActivationQuantizers().entrySet()) {
            Quantizer q = e.getValue();
            IntegerGrid g = q.spec().grid();
            float[] z = q.params().zeroPoint();
            for (int c = 0; c < z.length; c++) {
                z[c] = Math.min(Math.max((float) Math.rint(z[c]), g.n()), g.p());
            }
            q.setParams(new QuantParams(q.params().scale(), z));
        }
        double moved = 0;
        Model.Builder b = model.toBuilder();
        for (Op.Layer layer : model.layers()) {
            if (layer.bias() == null || !weightQuantizers.containsKey(layer.name())) {
                continue;
            }
            float[] biasScale = biasScales(layer);
            float[] bias = model.constant(layer.bias()).data().clone();
            for (int c = 0; c < bias.length; c++) {
                double code = Math.rint(bias[c] / (double) biasScale[c]);
                code = Math.min(Math.max(code, Integer.MIN_VALUE), Integer.MAX_VALUE);
                moved = Math.max(moved, Math.abs(bias[c] / (double) biasScale[c] - code));
                bias[c] = (float) (code * biasScale[c]);
            }
            b.constant(
                    layer.bias(),
                    new io.tinyptq.api.model.Tensor(model.constant(layer.bias()).shape(), bias));
        }
        setModel(b.build());
        return moved;
    }

    /**
     * TFLite's bias scale of {@code layer} per output channel: the float32 product {@code s_in * s_w[c]} of its
     * input's and its weight's scales (one weight scale repeated when per tensor).
     */
    public float[] biasScales(Op.Layer layer) {
        Quantizer in = activationQuantizers.get(layer.input());
        Quantizer w = weightQuantizers.get(layer.name());
        if (in == null || w == null) {
            throw new IllegalArgumentException(
                    "layer '" + layer.name() + "' needs an input and a weight quantizer" + " for a bias scale");
        }
        int channels = model.constant(layer.bias()).shape().size();
        float[] s = new float[channels];
        for (int c = 0; c < channels; c++) {
            s[c] = in.params().scale(0) * w.params().scale(w.params().channels() == 1 ? 0 : c);
        }
        return s;
    }

    public boolean initialized() {
        return weightQuantizers.values().stream().allMatch(Quantizer::initialized)
                && activationQuantizers.values().stream().allMatch(Quantizer::initialized);
    }
}
