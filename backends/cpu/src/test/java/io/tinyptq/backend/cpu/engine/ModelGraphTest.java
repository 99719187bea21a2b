package io.tinyptq.backend.cpu.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.tinyptq.api.model.Activation;
import io.tinyptq.api.model.Model;
import io.tinyptq.api.model.Op;
import io.tinyptq.api.model.Padding;
import io.tinyptq.api.model.Shape;
import io.tinyptq.api.model.Tensor;
import io.tinyptq.backend.cpu.kernels.Conv2d;
import io.tinyptq.backend.cpu.kernels.Dense;
import io.tinyptq.backend.cpu.kernels.DepthwiseConv2d;
import io.tinyptq.backend.cpu.kernels.Losses;
import io.tinyptq.backend.cpu.kernels.Parallel;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ModelGraphTest {

    private static Tensor tensor(SplittableRandom rnd, int... dims) {
        Shape s = Shape.of(dims);
        float[] d = new float[s.size()];
        for (int i = 0; i < d.length; i++) {
            d[i] = (float) (rnd.nextDouble() - 0.5);
        }
        return new Tensor(s, d);
    }

    @Test
    void compiledModelMatchesReferenceKernelsAndTrains() {
        SplittableRandom rnd = new SplittableRandom(4);
        Model model = Model.builder("tiny")
                .input("x", Shape.of(6, 6, 2))
                .constant("w1", tensor(rnd, 4, 3, 3, 2)).constant("b1", tensor(rnd, 4))
                .constant("w2", tensor(rnd, 3, 3, 8)).constant("b2", tensor(rnd, 8))
                .constant("w3", tensor(rnd, 3, 8)).constant("b3", tensor(rnd, 3))
                .op(new Op.Conv2D("conv", "x", "w1", "b1", "c", 2, 2, Padding.SAME, Activation.RELU))
                .op(new Op.DepthwiseConv2D("dw", "c", "w2", "b2", "d", 1, 1, Padding.VALID, 2, Activation.RELU6))
                .op(new Op.Reshape("flat", "d", "f", Shape.of(8)))
                .op(new Op.FullyConnected("fc", "f", "w3", "b3", "logits", Activation.NONE))
                .op(new Op.Softmax("sm", "logits", "probs"))
                .output("probs")
                .build();
        int n = 3;
        ModelGraph mg = ModelGraph.compile(model, n, Parallel.serial());
        float[] x = tensor(rnd, n, 6, 6, 2).data();
        System.arraycopy(x, 0, mg.value("x").data(), 0, x.length);
        mg.graph().forward(n);

        float[] c = new float[n * 3 * 3 * 4];
        Conv2d.forwardReference(x, n, 6, 6, 2, model.constant("w1").data(), 4, 3, 3, model.constant("b1").data(),
                2, 2, 0, 0, c, 3, 3); // SAME 6->3 with k=3,s=2: total pad 1 -> top/left 0
        for (int i = 0; i < c.length; i++) {
            c[i] = Math.max(c[i], 0);
        }
        float[] d = new float[n * 8];
        DepthwiseConv2d.forwardReference(c, n, 3, 3, 4, model.constant("w2").data(), 2, 3, 3,
                model.constant("b2").data(), 1, 1, 0, 0, d, 1, 1);
        for (int i = 0; i < d.length; i++) {
            d[i] = Math.min(Math.max(d[i], 0), 6);
        }
        float[] logits = new float[n * 3];
        Dense.forwardReference(d, n, 8, model.constant("w3").data(), 3, model.constant("b3").data(), logits);
        float[] probs = new float[n * 3];
        Losses.softmax(logits, n, 3, probs);
        float[] got = java.util.Arrays.copyOf(mg.value("probs").data(), n * 3);
        assertArrayEquals(probs, got, 1e-5f);

        Graph g = mg.graph();
        Value loss = g.crossEntropy(mg.value("logits"));
        g.minimize(loss, 1f);
        g.labels(loss)[0] = 1;
        g.labels(loss)[1] = 2;
        g.labels(loss)[2] = 0;
        float[] original = model.constant("w1").data().clone();
        Adam adam = new Adam(g.trainableParams(), 0.05f);
        g.forward(n);
        float first = g.loss();
        for (int it = 0; it < 50; it++) {
            g.zeroGrad();
            g.forward(n);
            g.backward();
            adam.step();
        }
        g.forward(n);
        assertEquals(true, g.loss() < first * 0.5, "loss " + first + " -> " + g.loss());
        assertArrayEquals(original, model.constant("w1").data(), 0f, "training leaves the model's constants alone");
        assertNotEquals(java.util.Arrays.toString(original), java.util.Arrays.toString(mg.param("w1").data()));
    }
}
