package io.tinyptq.kernel.deploy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tinyptq.api.InvalidModelException;
import io.tinyptq.api.integer.IntegerModel;
import io.tinyptq.api.spi.CodeGenerator;
import io.tinyptq.api.spi.PluginKind;
import io.tinyptq.kernel.registry.PluginRegistry;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A model's memory on a device as a code generator lays it out ({@link CodeGenerator#layout}): the bytes of its
 * constants (flash) and of its one activation arena (peak RAM for tensors), measured from the layout rather than
 * estimated from uniform bit-widths as the paper's {@code params x b_w + peak activation x b_a} is.
 *
 * @param generator  the code generator's name
 * @param flashBytes constants: packed weights, biases, requantization parameters; -1 when refused
 * @param arenaBytes the planned arena; -1 when refused
 * @param refused    why the generator cannot compute this model, or null
 */
public record DeviceMemory(String generator, long flashBytes, long arenaBytes, String refused) implements Serializable {

    /** Every registered code generator's layout of {@code model}, in name order; refusals are kept with the reason. */
    public static List<DeviceMemory> of(PluginRegistry registry, IntegerModel model) {
        List<DeviceMemory> out = new ArrayList<>();
        for (String name : registry.names(PluginKind.CODEGEN)) {
            out.add(of(registry.find(PluginKind.CODEGEN, name, CodeGenerator.class), model));
        }
        return out;
    }

    private static <O extends Record> DeviceMemory of(CodeGenerator<O> g, IntegerModel model) {
        try {
            CodeGenerator.GeneratedCode c = g.layout(model, g.defaultOptions());
            return new DeviceMemory(g.name(), c.flashBytes(), c.arenaBytes(), null);
        } catch (InvalidModelException e) {
            return new DeviceMemory(g.name(), -1, -1, e.getMessage());
        }
    }

    /**
     * Adds {@code device_memory} to {@code json} when {@code devices} is not empty: per code generator
     * {@code flash_bytes} and {@code arena_bytes}, or {@code refused} with the reason.
     */
    public static void putJson(ObjectNode json, List<DeviceMemory> devices) {
        if (devices.isEmpty()) {
            return;
        }
        ObjectNode d = json.putObject("device_memory");
        for (DeviceMemory m : devices) {
            ObjectNode g = d.putObject(m.generator());
            if (m.refused() != null) {
                g.put("refused", m.refused());
            } else {
                g.put("flash_bytes", m.flashBytes()).put("arena_bytes", m.arenaBytes());
            }
        }
    }

    /** Constants plus arena: the model's own memory on the device, code and stack excluded. */
    public long totalBytes() {
        return flashBytes + arenaBytes;
    }

    /**
     * One line: {@code c: 42,642 B constants (flash) + 24,576 B arena (RAM) = 67,218 B}, or the refusal; with the
     * paper-style estimate {@code estimateBits} for comparison where it is positive.
     */
    public String line(long estimateBits) {
        if (refused != null) {
            return generator + ": no layout (" + refused + ")";
        }
        String s = String.format(
                Locale.ROOT,
                "%s: %,d B constants (flash) + %,d B arena (RAM) = %,d B",
                generator,
                flashBytes,
                arenaBytes,
                totalBytes());
        if (estimateBits > 0) {
            s += String.format(Locale.ROOT, ", %.2f x the estimate", totalBytes() * 8.0 / estimateBits);
        }
        return s;
    }
}
