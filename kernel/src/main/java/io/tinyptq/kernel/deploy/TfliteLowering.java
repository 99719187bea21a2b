package io.tinyptq.kernel.deploy;

import io.tinyptq.api.TinyPtqException;
import io.tinyptq.api.integer.ElementType;
import io.tinyptq.api.integer.IntegerModel;
import io.tinyptq.api.integer.TensorQuant;
import io.tinyptq.api.model.Model;
import io.tinyptq.api.model.Op;
import io.tinyptq.api.model.Tensor;
import io.tinyptq.api.quant.FakeQuant;
import io.tinyptq.api.quant.Granularity;
import io.tinyptq.api.quant.IntegerGrid;
import io.tinyptq.api.quant.QuantParams;
import io.tinyptq.api.quant.QuantTarget;
import io.tinyptq.api.quant.QuantizedModel;
import io.tinyptq.api.quant.Quantizer;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Lowers a model quantized under target {@code tflite} to the {@link IntegerModel} TFLite's integer kernels run,
 * changing no value: every quantizer becomes a tensor's TFLite quantization and every constant its stored integers.
 *
 * <ul>
 *   <li>Activations: the simulation's code {@code c} on grid {@code [n, p]} is stored as the int8 {@code c - 128 - n}
 *       (an unsigned grid {@code [0, 255]} shifts by -128, a signed one stays), the zero point likewise; the scale is
 *       the quantizer's float32 scale.</li>
 *   <li>Weights: the codes of Eq. 1 on the narrow grid, {@code clamp(rint(w / s_c), -p, p)}, exactly as the
 *       simulation quantizes them ({@link FakeQuant#code}), zero point 0, one scale per output channel along the
 *       weight's channel axis (TFLite's {@code quantized_dimension}); int4 at 4 bits or fewer, else int8.</li>
 *   <li>Biases: {@code rint(b / (s_in * s_w[c]))} as int32, which {@link QuantizedModel#finishForTarget} made exact.
 *   </li>
 * </ul>
 *
 * <p>The lowered graph's constants hold the dequantized values, which are the simulation's weights and biases.
 */
public final class TfliteLowering {
    private TfliteLowering() {}

    /**
     * The integer model of {@code qm}. Refuses a model quantized for another target, naming the recipe key, and one
     * whose parameters the target's last step has not made integer (a zero point between two integers).
     *
     * @param floatIo model input and output as float32, quantized and dequantized at the boundary (TFLite's
     *                QUANTIZE and DEQUANTIZE, the converter's {@code inference_input_type=float}); else int8
     * @param packInt4 weights of 4 bits or fewer as INT4 (two to a byte in a file); else int8 holding the same values
     */
    public static IntegerModel lower(QuantizedModel qm, boolean floatIo, boolean packInt4) {
        if (qm.scheme().target() != QuantTarget.TFLITE) {
            throw new TinyPtqException("model '" + qm.model().name() + "' was quantized for target "
                    + qm.scheme().target().name().toLowerCase(Locale.ROOT) + ", whose quantizers TFLite's"
                    + " integer kernels do not compute (float biases, no quantizer on every tensor, full-range"
                    + " weights); quantize it again with quantization.target: tflite"
                    + " (--set quantization.target=tflite)");
        }
        if (!qm.initialized()) {
            throw new TinyPtqException("model '" + qm.model().name() + "' has quantizers without parameters");
        }
        Model m = qm.model();
        Map<String, TensorQuant> quant = new LinkedHashMap<>();
        Map<String, int[]> values = new LinkedHashMap<>();
        Model.Builder graph = m.toBuilder();
        for (String t : m.activationShapes().keySet()) {
            Quantizer q = qm.activationQuantizers().get(t);
            if (q == null) {
                throw new TinyPtqException("model '" + m.name() + "': tensor '" + t + "' has no quantizer, which"
                        + " target tflite places on every tensor");
            }
            quant.put(t, activation(t, q));
        }
        for (Op.Layer layer : m.layers()) {
            Quantizer wq = qm.weightQuantizers().get(layer.name());
            Tensor w = m.constant(layer.weight());
            QuantParams p = wq.params();
            IntegerGrid g = wq.spec().grid();
            boolean perChannel = wq.spec().granularity() == Granularity.PER_CHANNEL;
            int axis = perChannel ? wq.spec().channelAxis() : layer.weightChannelAxis();
            int[] dims = w.shape().dims();
            int inner = 1;
            for (int d = axis + 1; d < dims.length; d++) {
                inner *= dims[d];
            }
            int channels = perChannel ? dims[axis] : 1;
            float[] data = w.data();
            int[] codes = new int[data.length];
            float[] dequantized = new float[data.length];
            for (int i = 0; i < data.length; i++) {
                int c = perChannel ? (i / inner) % channels : 0;
                codes[i] = FakeQuant.code(data[i], p.scale(c), 0f, g);
                dequantized[i] = FakeQuant.quantize(data[i], p.scale(c), 0f, g);
            }
            ElementType type = packInt4 && wq.spec().bits() <= 4 ? ElementType.INT4 : ElementType.INT8;
            quant.put(layer.weight(), new TensorQuant(type, p.scale(), new int[p.channels()], perChannel ? axis : 0));
            values.put(layer.weight(), codes);
            graph.constant(layer.weight(), new Tensor(w.shape(), dequantized));
            if (layer.bias() != null) {
                float[] scale = qm.biasScales(layer);
                float[] b = m.constant(layer.bias()).data();
                int[] bc = new int[b.length];
                for (int c = 0; c < b.length; c++) {
                    double code = Math.rint(b[c] / (double) scale[c]);
                    // A float32 bias holds its int32 code exactly up to 2^24; beyond, to float32's relative step.
                    if (Math.abs(b[c] / (double) scale[c] - code) > 1e-3 + Math.abs(code) * 1e-6) {
                        throw new TinyPtqException("model '" + m.name() + "', layer '" + layer.name() + "': bias " + c
                                + " is not on its int32 grid (the pipeline's last step puts it there)");
                    }
                    bc[c] = (int) Math.min(Math.max(code, Integer.MIN_VALUE), Integer.MAX_VALUE);
                }
                quant.put(layer.bias(), new TensorQuant(ElementType.INT32, scale, new int[b.length], 0));
                values.put(layer.bias(), bc);
            }
        }
        Map<String, TensorQuant> boundary = new LinkedHashMap<>();
        if (floatIo) {
            for (String t : m.inputs().keySet()) {
                boundary.put(t, quant.put(t, TensorQuant.float32()));
            }
            for (String t : m.outputs()) {
                boundary.put(t, quant.put(t, TensorQuant.float32()));
            }
        }
        return new IntegerModel(graph.build(), quant, values, boundary);
    }

    /** {@link #lower(QuantizedModel, boolean, boolean)} with weights of 4 bits or fewer packed as INT4. */
    public static IntegerModel lower(QuantizedModel qm, boolean floatIo) {
        return lower(qm, floatIo, true);
    }

    /**
     * An activation quantizer as an int8 per-tensor quantization: code {@code c} on grid {@code [n, p]} stored as
     * {@code c - 128 - n}; a grid of fewer than 8 bits confines the tensor's values to {@code [-128, -128 + p - n]}.
     */
    static TensorQuant activation(String tensor, Quantizer q) {
        QuantParams p = q.params();
        IntegerGrid g = q.spec().grid();
        int offset = -128 - g.n();
        float z = p.zeroPoint(0);
        if (z != Math.rint(z) || q.spec().bits() > 8) {
            throw new TinyPtqException("tensor '" + tensor + "': an int8 tensor needs a quantizer of 8 bits or fewer"
                    + " with an integer zero point, got " + q.spec().bits() + " bits and zero point " + z);
        }
        TensorQuant t = TensorQuant.perTensor(ElementType.INT8, p.scale(0), (int) z + offset);
        return q.spec().bits() < 8 ? t.confinedTo(g.n() + offset, g.p() + offset) : t;
    }
}
