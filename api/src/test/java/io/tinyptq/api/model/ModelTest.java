package io.tinyptq.api.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.tinyptq.api.InvalidModelException;
import io.tinyptq.api.quant.QuantScheme;
import io.tinyptq.api.quant.QuantizedModel;
import java.util.List;
import org.junit.jupiter.api.Test;

class ModelTest {
    static Model.Builder conv(Padding padding, int stride) {
        return Model.builder("m")
                .input("x", Shape.of(5, 6, 3))
                .constant("w", Tensor.zeros(Shape.of(4, 3, 3, 3)))
                .constant("b", Tensor.zeros(Shape.of(4)))
                .op(new Op.Conv2D("conv", "x", "w", "b", "y", stride, stride, padding, Activation.RELU))
                .output("y");
    }

    @Test
    void infersTensorFlowShapes() {
        assertEquals(Shape.of(5, 6, 4), conv(Padding.SAME, 1).build().shape("y"));
        assertEquals(Shape.of(3, 3, 4), conv(Padding.SAME, 2).build().shape("y"));
        assertEquals(Shape.of(3, 4, 4), conv(Padding.VALID, 1).build().shape("y"));
        assertEquals(Shape.of(2, 2, 4), conv(Padding.VALID, 2).build().shape("y"));
        // SAME with an even total puts the extra row at the bottom: in 6, k 3, s 2 -> out 3, total 1, before 0.
        assertEquals(0, Padding.SAME.before(6, 3, 2, false));
        assertEquals(1, Padding.SAME.before(5, 3, 1, true));
    }

    @Test
    void shapeMismatchNamesTheLayer() {
        var e = assertThrows(
                InvalidModelException.class,
                () -> Model.builder("m")
                        .input("x", Shape.of(5, 6, 2))
                        .constant("w", Tensor.zeros(Shape.of(4, 3, 3, 3)))
                        .op(new Op.Conv2D("conv_1", "x", "w", null, "y", 1, 1, Padding.SAME, Activation.NONE))
                        .output("y")
                        .build());
        assertEquals("layer 'conv_1' (conv2d): weight input channels (axis 3) is 3, expected 2", e.getMessage());
    }

    @Test
    void danglingTensorAndNanWeightAreNamed() {
        var dangling = assertThrows(
                InvalidModelException.class,
                () -> Model.builder("m")
                        .input("x", Shape.of(4))
                        .op(new Op.Act("relu", "z", "y", Activation.RELU))
                        .output("y")
                        .build());
        assertEquals("layer 'relu' (relu) reads 'z', which no input or earlier layer produces", dangling.getMessage());
        float[] w = new float[4 * 3 * 3 * 3];
        w[7] = Float.NaN;
        var nan = assertThrows(
                InvalidModelException.class,
                () -> conv(Padding.SAME, 1)
                        .constant("w", new Tensor(Shape.of(4, 3, 3, 3), w))
                        .build());
        assertEquals(
                "constant 'w' holds NaN at flat index 7 (shape [4,3,3,3]); every value must be finite",
                nan.getMessage());
    }

    @Test
    void quantizersFollowFigure1() {
        Model m = Model.builder("fork")
                .input("x", Shape.of(4))
                .constant("w1", Tensor.zeros(Shape.of(4, 4)))
                .constant("w2", Tensor.zeros(Shape.of(4, 4)))
                .constant("w3", Tensor.zeros(Shape.of(2, 4)))
                .op(new Op.FullyConnected("a", "x", "w1", null, "h", Activation.RELU))
                .op(new Op.FullyConnected("b", "h", "w2", null, "u", Activation.NONE))
                .op(new Op.FullyConnected("c", "h", "w3", null, "v", Activation.NONE))
                .output("u")
                .output("v")
                .build();
        QuantizedModel q = QuantizedModel.simulate(
                m, QuantScheme.of(4, 4).withOverrides(List.of(new QuantScheme.LayerBits("c", null, 6))));
        assertEquals(List.of("a", "b", "c"), List.copyOf(q.weightQuantizers().keySet()));
        // The fork 'h' has one quantizer; the widest override wins. The input keeps input_bits = 8.
        assertEquals(List.of("x", "h"), List.copyOf(q.activationQuantizers().keySet()));
        assertEquals(6, q.activationQuantizers().get("h").spec().bits());
        assertEquals(8, q.activationQuantizers().get("x").spec().bits());
        var e = assertThrows(
                RuntimeException.class,
                () -> QuantizedModel.simulate(
                        m, QuantScheme.of(4, 4).withOverrides(List.of(new QuantScheme.LayerBits("d", 8, null)))));
        assertEquals(
                "quantization.overrides[0].layer: model 'fork' has no layer with weights named 'd'; its layers"
                        + " are [a, b, c]",
                e.getMessage());
    }

    /**
     * The reference keeps the full-precision weights when a stage stores rounded ones, in the whole model and in a
     * part restricted from it (whose own constants are the part's).
     */
    @Test
    void theReferenceKeepsTheFullPrecisionWeights() {
        Model m = Model.builder("chain")
                .input("x", Shape.of(2))
                .constant("w1", new Tensor(Shape.of(2, 2), new float[] {0.3f, -0.7f, 1.1f, 0.2f}))
                .constant("w2", new Tensor(Shape.of(1, 2), new float[] {0.5f, 0.25f}))
                .op(new Op.FullyConnected("a", "x", "w1", null, "h", Activation.RELU))
                .op(new Op.FullyConnected("b", "h", "w2", null, "y", Activation.NONE))
                .output("y")
                .build();
        QuantizedModel q = QuantizedModel.simulate(m, QuantScheme.of(4, 4));
        Model rounded = m.toBuilder()
                .constant("w1", new Tensor(Shape.of(2, 2), new float[] {0.25f, -0.75f, 1f, 0.25f}))
                .build();
        q.setModel(rounded);
        assertSame(rounded, q.model());
        assertSame(m, q.reference());
        QuantizedModel part = q.restrict(rounded);
        org.junit.jupiter.api.Assertions.assertArrayEquals(
                new float[] {0.3f, -0.7f, 1.1f, 0.2f},
                part.reference().constant("w1").data());
        assertSame(rounded, part.model());
        assertSame(m, q.withoutActivationQuantizers(java.util.Set.of("h")).reference());
    }
}
