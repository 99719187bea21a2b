package io.tinyptq.plugins.preprocess;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyptq.api.model.Model;
import io.tinyptq.api.model.Op;
import io.tinyptq.api.options.NoOptions;
import io.tinyptq.api.spi.ModelExecutor;
import io.tinyptq.testkit.ReferenceBackend;
import io.tinyptq.testkit.TestContext;
import io.tinyptq.testkit.TinyModels;
import java.util.List;
import org.junit.jupiter.api.Test;

class PreprocessTest {
    private final CrossLayerEqualization cle = new CrossLayerEqualization();
    private final OutlierChannelSplitting ocs = new OutlierChannelSplitting();

    static float[] outputs(Model m, float[] input, int n) {
        try (ModelExecutor e = new ReferenceBackend().compile(m, null, n, NoOptions.INSTANCE)) {
            return e.forward(input, n, ModelExecutor.ActivationListener.NONE);
        }
    }

    static void assertSameFunction(Model before, Model after) {
        String in = before.inputs().keySet().iterator().next();
        float[] x = TinyModels.uniform(9, 16, before.shape(in), -2f, 2f);
        float[] a = outputs(before, x, 16);
        float[] b = outputs(after, x, 16);
        for (int i = 0; i < a.length; i++) {
            assertEquals(a[i], b[i], 1e-5 * Math.max(1, Math.abs(a[i])), "output " + i);
        }
    }

    /** max |w| of output channel c (first) and input channel c (second) for a pair of {@code m}. */
    static double[][] ranges(Model m, LayerPair p) {
        double[][] r = new double[2][p.channels()];
        float[] w1 = m.constant(p.first().weight()).data();
        float[] w2 = m.constant(p.second().weight()).data();
        for (int i = 0; i < w1.length; i++) {
            r[0][p.firstOutputChannel(m, i)] = Math.max(r[0][p.firstOutputChannel(m, i)], Math.abs(w1[i]));
        }
        for (int i = 0; i < w2.length; i++) {
            r[1][p.secondInputChannel(m, i)] = Math.max(r[1][p.secondInputChannel(m, i)], Math.abs(w2[i]));
        }
        return r;
    }

    @Test
    void findsPairsThroughPerChannelOpsButNotAcrossForks() {
        List<String> pairs = LayerPair.find(TinyModels.unbalancedChain(1)).stream()
                .map(p -> p.first().name() + "->" + p.second().name() + (p.viaRelu6() ? " (relu6)" : "")).toList();
        assertEquals(List.of("c1->dw", "dw->pw", "pw->c6", "c6->c7 (relu6)", "c7->fc1", "fc1->fc2"), pairs);
        // convnet: d1 feeds two layers (a residual fork), so dw has no partner.
        assertTrue(LayerPair.find(TinyModels.convNet(1)).stream().noneMatch(p -> p.first().name().equals("dw")));
        LayerPair flat = LayerPair.find(TinyModels.flattenNet(1)).get(0);
        assertTrue(flat.flattened());
    }

    @Test
    void clePreservesTheFunctionAndEqualizesRanges() {
        for (Model m : List.of(TinyModels.unbalancedChain(2), TinyModels.flattenNet(3), TinyModels.convNet(4))) {
            Model eq = cle.apply(m, cle.defaultOptions(), TestContext.seeded(1));
            assertSameFunction(m, eq);
            assertEquals(m.ops(), eq.ops());
        }
        Model m = TinyModels.unbalancedChain(2);
        Model eq = cle.apply(m, cle.defaultOptions(), TestContext.seeded(1));
        for (LayerPair p : LayerPair.find(eq)) {
            double[][] r = ranges(eq, p);
            if (p.viaRelu6()) {
                // Skipped by default: the ReLU6 pair is left unequalized.
                double worst = 0;
                for (int c = 0; c < p.channels(); c++) {
                    worst = Math.max(worst, Math.abs(r[0][c] / r[1][c] - 1));
                }
                assertTrue(worst > 0.1, "relu6 pair should not be equalized: " + worst);
                continue;
            }
            for (int c = 0; c < p.channels(); c++) {
                if (p.first().name().equals("fc1")) {
                    // The last pair was equalized last: its ranges match exactly.
                    assertEquals(r[0][c], r[1][c], 1e-5 * r[0][c], p + " channel " + c);
                } else {
                    // Inner links converge to equal ranges within the sweep tolerance.
                    assertEquals(r[0][c], r[1][c], 2e-3 * r[0][c], p.first().name() + " channel " + c);
                }
            }
        }
    }

    @Test
    void relu6PairsAreEqualizedOnlyWhenAskedAndThenTheFunctionMayChange() {
        Model m = TinyModels.unbalancedChain(2);
        Model eq = cle.apply(m, new CrossLayerEqualization.Options(100, 1e-4, CrossLayerEqualization.Relu6.TREAT_AS_RELU, 100),
                TestContext.seeded(1));
        LayerPair relu6 = LayerPair.find(eq).stream().filter(LayerPair::viaRelu6).findFirst().orElseThrow();
        double[][] r = ranges(eq, relu6);
        assertEquals(r[0][0], r[1][0], 1e-3 * r[0][0]);
        assertNotEquals(m.constant("c7.w"), eq.constant("c7.w"));
    }

    @Test
    void ocsPreservesTheFunctionGrowsChannelsAndHalvesOutliers() {
        Model m = TinyModels.unbalancedChain(5);
        Model split = ocs.apply(m, new OutlierChannelSplitting.Options(0.5), TestContext.seeded(1));
        assertSameFunction(m, split);
        // pw->c6 (6 channels): +3; c6->c7 (5): +3; c7->fc1 (5): +3; fc1->fc2 (7): +4.
        assertEquals(9, split.constant("pw.w").shape().dim(0));
        assertEquals(9, split.constant("c6.w").shape().dim(3));
        assertEquals(8, split.constant("c6.w").shape().dim(0));
        assertEquals(8, split.constant("c7.w").shape().dim(3));
        assertEquals(8, split.constant("fc1.w").shape().dim(1));
        assertEquals(11, split.constant("fc2.w").shape().dim(1));
        for (String w : List.of("c6.w", "c7.w", "fc1.w", "fc2.w")) {
            assertTrue(maxAbs(split.constant(w).data()) < maxAbs(m.constant(w).data()), w + " max |w| shrinks");
        }
        // Depthwise layers are left alone.
        assertEquals(m.constant("dw.w"), split.constant("dw.w"));
        assertEquals(m.ops().size(), split.ops().size());
        assertTrue(split.ops().stream().anyMatch(o -> o instanceof Op.Pool));
    }

    @Test
    void zeroExpandRatioChangesNothing() {
        Model m = TinyModels.unbalancedChain(6);
        Model same = ocs.apply(m, new OutlierChannelSplitting.Options(0), TestContext.seeded(1));
        assertEquals(m.constants(), same.constants());
    }

    static double maxAbs(float[] v) {
        double m = 0;
        for (float x : v) {
            m = Math.max(m, Math.abs(x));
        }
        return m;
    }
}
