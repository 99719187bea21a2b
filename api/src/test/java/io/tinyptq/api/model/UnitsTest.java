package io.tinyptq.api.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class UnitsTest {
    static Tensor w(int... dims) {
        return Tensor.zeros(Shape.of(dims));
    }

    /** stem conv -> [conv a -> conv b] + shortcut -> add -> dw -> pw -> fc. */
    static Model net() {
        return Model.builder("net")
                .input("x", Shape.of(4, 4, 2))
                .constant("stem", w(4, 3, 3, 2))
                .constant("a", w(4, 3, 3, 4))
                .constant("b", w(4, 3, 3, 4))
                .constant("sc", w(4, 1, 1, 4))
                .constant("dw", w(3, 3, 4))
                .constant("pw", w(6, 1, 1, 4))
                .constant("fc", w(2, 96))
                .op(new Op.Conv2D("stem", "x", "stem", null, "t0", 1, 1, Padding.SAME, Activation.RELU))
                .op(new Op.Conv2D("conv_a", "t0", "a", null, "t1", 1, 1, Padding.SAME, Activation.RELU))
                .op(new Op.Conv2D("conv_b", "t1", "b", null, "t2", 1, 1, Padding.SAME, Activation.NONE))
                .op(new Op.Conv2D("shortcut", "t0", "sc", null, "t3", 1, 1, Padding.SAME, Activation.NONE))
                .op(new Op.Add("add", "t2", "t3", "t4", Activation.RELU))
                .op(new Op.DepthwiseConv2D("dw", "t4", "dw", null, "t5", 1, 1, Padding.SAME, 1, Activation.RELU))
                .op(new Op.Conv2D("pw", "t5", "pw", null, "t6", 1, 1, Padding.SAME, Activation.RELU))
                .op(new Op.Reshape("flat", "t6", "t7", Shape.of(96)))
                .op(new Op.FullyConnected("fc", "t7", "fc", null, "y", Activation.NONE))
                .output("y")
                .build();
    }

    @Test
    void layerUnitsAreTheLayers() {
        assertEquals(
                List.of("stem", "conv_a", "conv_b", "shortcut", "dw", "pw", "fc"),
                Units.layers(net()).stream().map(Unit::name).toList());
    }

    @Test
    void blocksComeFromTheGraph() {
        List<Unit> blocks = Units.blocks(net());
        assertEquals(
                List.of("stem", "conv_a..add", "dw..pw", "fc"),
                blocks.stream().map(Unit::name).toList());
        Unit res = blocks.get(1);
        assertEquals("residual", res.kind());
        assertEquals("t0", res.input());
        assertEquals("t4", res.output());
        assertEquals(
                List.of("conv_a", "conv_b", "shortcut", "add"),
                res.ops().stream().map(Op::name).toList());
        assertEquals("separable", blocks.get(2).kind());
    }

    @Test
    void sliceIsAModelOfItsOwn() {
        Model net = net();
        Model block = Units.slice(net, Units.blocks(net).get(1));
        assertEquals(List.of("t0"), List.copyOf(block.inputs().keySet()));
        assertEquals(List.of("t4"), block.outputs());
        assertEquals(4, block.ops().size());
        assertEquals(net.constant("a"), block.constant("a"));
    }

    @Test
    void logitsAreTheFinalSoftmaxInputOrTheOutputItself() {
        Model plain = net();
        assertEquals("y", Units.logits(plain));
        assertEquals(plain.ops(), Units.toLogits(plain).ops());
        Model.Builder b = Model.builder("net+softmax").input("x", plain.shape("x"));
        plain.constants().forEach(b::constant);
        plain.ops().forEach(b::op);
        Model withSoftmax =
                b.op(new Op.Softmax("softmax", "y", "p")).output("p").build();
        assertEquals("y", Units.logits(withSoftmax));
        Model head = Units.toLogits(withSoftmax);
        assertEquals(List.of("y"), head.outputs());
        assertEquals(plain.ops(), head.ops());
        assertEquals(plain.constants().keySet(), head.constants().keySet());
    }
}
