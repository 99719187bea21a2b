package io.tinyptq.kernel.store;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tinyptq.api.TinyPtqException;
import io.tinyptq.api.model.Op;
import io.tinyptq.api.quant.IntegerGrid;
import io.tinyptq.api.quant.QuantizedModel;
import io.tinyptq.api.quant.Quantizer;
import io.tinyptq.api.quant.Symmetry;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The quantization encodings of a model as JSON, in the layout AIMET popularized: {@code activation_encodings}
 * by tensor and {@code param_encodings} by weight tensor, each a list with one entry per channel holding
 * {@code bitwidth}, {@code scale}, {@code offset} ({@code -z}), {@code min} ({@code s(n - z)}), {@code max}
 * ({@code s(p - z)}) and {@code is_symmetric}. Deployment tools read these to build integer kernels.
 */
public final class Encodings {
    private Encodings() {}

    public static ObjectNode toJson(QuantizedModel qm) {
        ObjectMapper m = new ObjectMapper();
        ObjectNode root = m.createObjectNode();
        ObjectNode acts = root.putObject("activation_encodings");
        qm.activationQuantizers().forEach((t, q) -> acts.set(t, channels(m, q)));
        ObjectNode params = root.putObject("param_encodings");
        qm.weightQuantizers()
                .forEach((layer, q) -> params.set(((Op.Layer) qm.model().op(layer)).weight(), channels(m, q)));
        return root;
    }

    public static void write(QuantizedModel qm, Path file) {
        try {
            ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
            AtomicFiles.write(file, out -> json.writeValue(out, toJson(qm)));
        } catch (IOException e) {
            throw new TinyPtqException("cannot write encodings to " + file + ": " + e.getMessage(), e);
        }
    }

    private static ArrayNode channels(ObjectMapper m, Quantizer q) {
        ArrayNode list = m.createArrayNode();
        IntegerGrid g = q.spec().grid();
        for (int c = 0; c < q.params().channels(); c++) {
            float s = q.params().scale(c);
            float z = q.params().zeroPoint(c);
            list.addObject()
                    .put("bitwidth", q.spec().bits())
                    .put("dtype", "int")
                    .put("is_symmetric", q.spec().symmetry() == Symmetry.SYMMETRIC ? "True" : "False")
                    .put("scale", s)
                    .put("offset", -z)
                    .put("min", s * (g.n() - z))
                    .put("max", s * (g.p() - z));
        }
        return list;
    }
}
