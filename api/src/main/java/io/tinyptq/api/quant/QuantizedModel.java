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

    private QuantizedModel(Model model, Model reference, QuantScheme scheme, Map<String, Quantizer> w,
                           Map<String, Quantizer> a) {
        this.model = model;
        this.reference = reference;
        this.scheme = scheme;
        this.weightQuantizers = Collections.unmodifiableMap(w);
        this.activationQuantizers = Collections.unmodifiableMap(a);
    }

    /**
     * A quantized model from explicit quantizers (as a stored model reloads them); every key must name a layer
     * with weights or an activation tensor of {@code model}.
     */
    public static QuantizedModel of(Model model, QuantScheme scheme, Map<String, Quantizer> weights,
                                    Map<String, Quantizer> activations) {
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
                    + new java.util.TreeSet<>(weights.keySet().stream().filter(k -> !w.containsKey(k)).toList())
                    + " " + new java.util.TreeSet<>(activations.keySet().stream().filter(k -> !a.containsKey(k)).toList()));
        }
        return new QuantizedModel(model, model, scheme, w, a);
    }

    /** {@code model} without any quantizer: training a full-precision model goes through the same sessions. */
    public static QuantizedModel floatOnly(Model model) {
        return new QuantizedModel(model, model, QuantScheme.DEFAULTS, new LinkedHashMap<>(), new LinkedHashMap<>());
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
        Map<String, Quantizer> w = new LinkedHashMap<>();
        Map<String, Integer> actBits = new LinkedHashMap<>();
        for (String in : model.inputs().keySet()) {
            actBits.put(in, scheme.inputBits());
        }
        for (Op.Layer layer : model.layers()) {
            QuantScheme.LayerBits o = overrides.get(layer.name());
            int wb = o != null && o.weightBits() != null ? o.weightBits() : scheme.weightBits();
            int ab = o != null && o.activationBits() != null ? o.activationBits() : scheme.activationBits();
            w.put(layer.name(), new Quantizer(layer.name(), new QuantizerSpec(wb, scheme.weightSymmetry(),
                    scheme.weightGranularity(), layer.weightChannelAxis())));
            if (!model.inputs().containsKey(layer.input())) {
                actBits.merge(layer.input(), ab, Math::max);
            } else if (o != null && o.activationBits() != null) {
                actBits.merge(layer.input(), ab, Math::max);
            }
        }
        Map<String, Quantizer> a = new LinkedHashMap<>();
        actBits.forEach((t, b) -> a.put(t, new Quantizer(t, new QuantizerSpec(b, scheme.activationSymmetry(),
                Granularity.PER_TENSOR, -1))));
        return new QuantizedModel(model, model, scheme, w, a);
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
        part.constants().keySet().stream().filter(reference.constants()::containsKey)
                .forEach(c -> ref.constant(c, reference.constant(c)));
        return new QuantizedModel(part, ref.build(), scheme, w, a);
    }

    /**
     * This model without the activation quantizers of {@code tensors} (the others are shared): running it shows
     * those tensors' values before quantization, as a unit whose own input quantizer is being optimized needs.
     */
    public QuantizedModel withoutActivationQuantizers(java.util.Set<String> tensors) {
        Map<String, Quantizer> a = new LinkedHashMap<>(activationQuantizers);
        a.keySet().removeAll(tensors);
        return new QuantizedModel(model, reference, scheme, weightQuantizers, a);
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
        return new QuantizedModel(model, reference, scheme, w, a);
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

    public boolean initialized() {
        return weightQuantizers.values().stream().allMatch(Quantizer::initialized)
                && activationQuantizers.values().stream().allMatch(Quantizer::initialized);
    }
}
