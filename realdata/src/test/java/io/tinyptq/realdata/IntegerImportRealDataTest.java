package io.tinyptq.realdata;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyptq.api.integer.ElementType;
import io.tinyptq.api.integer.IntegerModel;
import io.tinyptq.api.integer.TensorQuant;
import io.tinyptq.api.model.Model;
import io.tinyptq.api.model.Op;
import io.tinyptq.kernel.data.ModelFiles;
import io.tinyptq.kernel.stats.IntegerStats;
import io.tinyptq.kernel.stats.ModelStats;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The three MLPerf Tiny int8 reference models import as fully-integer models: the layers of their float
 * counterparts, INT8 activations, per-channel INT8 convolution weights, per-tensor INT8 dense weights, INT32 biases,
 * and the input quantization {@code data/PROVENANCE.md} states (ResNet-8 scale 1, zero point -128, i.e.
 * {@code q = pixel - 128}; DS-CNN scale 0.5847029, zero point 83; MobileNetV1 scale 1/255, zero point -128, i.e.
 * {@code q = pixel - 128} of {@code pixel / 255}), softmax output at scale 1/256, zero point -128.
 */
class IntegerImportRealDataTest {

    static IntegerModel integer(String file) {
        Path p = Shared.root().resolve("models").resolve(file);
        assertTrue(ModelFiles.isInteger(Shared.kernel().registry(), p), file + " is a fully-integer model");
        return ModelFiles.readInteger(Shared.kernel().registry(), p);
    }

    static void check(String intFile, String floatFile, int layers, long params, float inScale, int inZero) {
        IntegerModel m = integer(intFile);
        Model g = m.graph();
        assertEquals(layers, g.ops().size(), intFile + " layers");
        Model f = Shared.model(floatFile);
        assertFalse(ModelFiles.isInteger(
                Shared.kernel().registry(), Shared.root().resolve("models").resolve(floatFile)));
        assertEquals(
                f.ops().stream().map(Op::type).toList(),
                g.ops().stream().map(Op::type).toList(),
                intFile + ": the float model's layers");
        for (int i = 0; i < g.ops().size(); i++) {
            List<String> gp = g.ops().get(i).parameters();
            List<String> fp = f.ops().get(i).parameters();
            assertEquals(fp.size(), gp.size(), g.ops().get(i).name());
            for (int k = 0; k < gp.size(); k++) {
                assertEquals(
                        f.constant(fp.get(k)).shape(), g.constant(gp.get(k)).shape(), gp.get(k));
            }
        }
        assertEquals(params, ModelStats.of(g).params(), intFile + " parameters (Table 1)");

        String input = g.inputs().keySet().iterator().next();
        assertEquals(TensorQuant.perTensor(ElementType.INT8, inScale, inZero), m.quant(input), intFile + " input");
        assertTrue(m.boundary().isEmpty(), "int8 in, int8 out: no QUANTIZE / DEQUANTIZE");
        assertEquals(
                TensorQuant.perTensor(ElementType.INT8, 1f / 256, -128),
                m.quant(g.outputs().getFirst()),
                intFile + " softmax output");
        for (Op op : g.ops()) {
            TensorQuant out = m.quant(op.output());
            assertEquals(ElementType.INT8, out.type(), op.name());
            assertFalse(out.perChannel(), op.name());
            if (op instanceof Op.Layer l) {
                TensorQuant w = m.quant(l.weight());
                assertEquals(ElementType.INT8, w.type(), l.weight());
                int channels = g.constant(l.weight()).shape().dim(l.weightChannelAxis());
                if (op instanceof Op.FullyConnected) {
                    assertFalse(w.perChannel(), l.weight());
                } else {
                    assertEquals(channels, w.scale().length, l.weight() + " per channel");
                    assertEquals(l.weightChannelAxis(), w.axis(), l.weight() + " channel axis");
                }
                TensorQuant b = m.quant(l.bias());
                assertEquals(ElementType.INT32, b.type(), l.bias());
                // TFLite's bias scale: input scale times each channel's weight scale.
                float sIn = m.quant(l.input()).scale(0);
                for (int c = 0; c < b.scale().length; c++) {
                    assertEquals(sIn * w.scale(c), b.scale(c), 1e-6 * b.scale(c), l.bias() + " channel " + c);
                }
                int[] q = m.values(l.weight());
                float[] real = g.constant(l.weight()).data();
                for (int v : q) {
                    assertTrue(v >= -127 && v <= 127, l.weight() + " holds " + v);
                }
                assertEquals(real.length, q.length);
            }
        }
        IntegerStats s = IntegerStats.of(m);
        assertEquals(
                params,
                s.weightElements().get(ElementType.INT8) + s.biasElements().get(ElementType.INT32));
        assertEquals(
                s.parameterBytes(),
                s.weightElements().get(ElementType.INT8) + 4 * s.biasElements().get(ElementType.INT32));
        System.out.printf(
                "%s: %d layers, weights %,d bytes, biases %,d bytes, peak activation %,d bytes%n",
                intFile, layers, s.weightBytes(), s.biasBytes(), s.peakActivationBytes());
    }

    @Test
    void resnet8Int8() {
        check("pretrainedResnet_quant.tflite", "pretrainedResnet.tflite", 16, 77_706, 1f, -128);
    }

    @Test
    void dsCnnInt8() {
        check("kws_ref_model.tflite", "kws_ref_model_float32.tflite", 13, 22_604, 0.5847029089927673f, 83);
    }

    @Test
    void mobileNetV1Int8() {
        check("vww_96_int8.tflite", "vww_96_float.tflite", 31, 210_850, 1f / 255, -128);
    }

    @Test
    void floatReadOfAnInt8FileSaysWhereItRuns() {
        var e = org.junit.jupiter.api.Assertions.assertThrows(
                io.tinyptq.api.InvalidModelException.class, () -> Shared.model("kws_ref_model.tflite"));
        assertTrue(e.getMessage().contains("is a fully-integer TFLite model"), e.getMessage());
        assertTrue(e.getMessage().contains("integer runtime"), e.getMessage());
        assertEquals(Map.of(), integer("kws_ref_model.tflite").boundary());
    }
}
