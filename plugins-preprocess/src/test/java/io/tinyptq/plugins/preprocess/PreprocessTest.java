package io.tinyptq.plugins.preprocess;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyptq.api.model.Model;
import io.tinyptq.api.model.Op;
import io.tinyptq.api.options.NoOptions;
import io.tinyptq.api.spi.CalibrationSet;
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
                .map(p -> p.first().name() + "->" + p.second().name() + (p.viaRelu6() ? " (relu6)" : ""))
                .toList();
        assertEquals(List.of("c1->dw", "dw->pw", "pw->c6", "c6->c7 (relu6)", "c7->fc1", "fc1->fc2"), pairs);
        // convnet: d1 feeds two layers (a residual fork), so dw has no partner.
        assertTrue(LayerPair.find(TinyModels.convNet(1)).stream()
                .noneMatch(p -> p.first().name().equals("dw")));
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
        Model eq = cle.apply(
                m,
                new CrossLayerEqualization.Options(
                        100,
                        1e-4,
                        CrossLayerEqualization.Relu6.TREAT_AS_RELU,
                        100,
                        CrossLayerEqualization.ActivationPairs.NONE,
                        1),
                TestContext.seeded(1));
        LayerPair relu6 = LayerPair.find(eq).stream()
                .filter(LayerPair::viaRelu6)
                .findFirst()
                .orElseThrow();
        double[][] r = ranges(eq, relu6);
        assertEquals(r[0][0], r[1][0], 1e-3 * r[0][0]);
        assertNotEquals(m.constant("c7.w"), eq.constant("c7.w"));
    }

    /** Largest magnitude of each channel (channels last) of {@code tensor} over the samples {@code x}. */
    static double[] channelMax(Model m, float[] x, int n, String tensor) {
        double[] r = new double[m.shape(tensor).dim(-1)];
        try (ModelExecutor e = new ReferenceBackend().compile(m, null, n, NoOptions.INSTANCE)) {
            e.forward(x, n, (t, v, offset, length) -> {
                if (t.equals(tensor)) {
                    for (int i = 0; i < length; i++) {
                        r[i % r.length] = Math.max(r[i % r.length], Math.abs(v[offset + i]));
                    }
                }
            });
        }
        return r;
    }

    static CrossLayerEqualization.Options activationOptions(
            CrossLayerEqualization.ActivationPairs pairs, double alpha) {
        return new CrossLayerEqualization.Options(100, 1e-4, CrossLayerEqualization.Relu6.SKIP, 100, pairs, alpha);
    }

    @Test
    void activationEqualizationStretchesJunctionChannelsTowardsTheWidestAndKeepsTheFunction() {
        Model m = TinyModels.unbalancedChain(7);
        int n = 48;
        float[] x = TinyModels.uniform(11, n, m.shape("x"), -2f, 2f);
        TestContext ctx = new TestContext(1, new CalibrationSet("test", m.shape("x"), x, new int[0]));
        Model weightsOnly = cle.apply(m, cle.defaultOptions(), ctx);

        // depthwise, alpha = 1: the junction into the depthwise layer (a1) ends with every live channel at the
        // widest channel's range; the other junctions keep the weight equalization.
        Model dw = cle.apply(m, activationOptions(CrossLayerEqualization.ActivationPairs.DEPTHWISE, 1), ctx);
        assertSameFunction(m, dw);
        double[] before = channelMax(weightsOnly, x, n, "a1");
        double[] after = channelMax(dw, x, n, "a1");
        double widest = java.util.Arrays.stream(before).max().orElseThrow();
        int live = 0;
        for (int c = 0; c < after.length; c++) {
            if (before[c] > 1e-6 * widest) {
                live++;
                double expected = before[c] * Math.min(widest / before[c], 100);
                assertEquals(expected, after[c], 1e-4 * widest, "a1 channel " + c);
            }
        }
        assertTrue(live >= 2, "the test model needs live channels at a1");
        assertEquals(weightsOnly.constant("pw.w"), dw.constant("pw.w"));
        assertEquals(weightsOnly.constant("fc2.w"), dw.constant("fc2.w"));

        // all, alpha = 0.5: every covered junction's channel c goes from a_c to a_c (A / a_c)^0.5 = sqrt(A a_c).
        Model half = cle.apply(m, activationOptions(CrossLayerEqualization.ActivationPairs.ALL, 0.5), ctx);
        assertSameFunction(m, half);
        for (String junction : List.of("a1", "a2", "a4", "a7", "a8")) {
            double[] b = channelMax(weightsOnly, x, n, junction);
            double[] a = channelMax(half, x, n, junction);
            double top = java.util.Arrays.stream(b).max().orElseThrow();
            for (int c = 0; c < a.length; c++) {
                double expected = b[c] <= 1e-6 * top ? b[c] : b[c] * Math.min(Math.sqrt(top / b[c]), 100);
                assertEquals(expected, a[c], 1e-4 * top, junction + " channel " + c);
            }
        }
        // The ReLU6 junction (a5) is skipped as in the weight equalization.
        double[] relu6Before = channelMax(weightsOnly, x, n, "a5");
        double[] relu6After = channelMax(half, x, n, "a5");
        for (int c = 0; c < relu6Before.length; c++) {
            assertEquals(relu6Before[c], relu6After[c], 1e-5 * Math.max(1, relu6Before[c]), "a5 channel " + c);
        }

        // alpha = 0 stretches nothing: the weight equalization alone.
        Model none = cle.apply(m, activationOptions(CrossLayerEqualization.ActivationPairs.ALL, 0), ctx);
        assertEquals(weightsOnly.constants(), none.constants());
    }

    static List<String> names(List<io.tinyptq.api.model.Op.Layer> layers) {
        return layers.stream().map(io.tinyptq.api.model.Op.Layer::name).toList();
    }

    @Test
    void channelGroupsFollowForksAndResidualAddsAndStopAtWhatCannotBeRescaled() {
        List<ChannelGroup> conv = ChannelGroup.find(TinyModels.convNet(1));
        ChannelGroup fork = conv.stream()
                .filter(g -> names(g.producers()).equals(List.of("dw")))
                .findFirst()
                .orElseThrow();
        assertEquals(List.of("pw", "shortcut"), names(fork.consumers()));
        assertTrue(fork.viaRelu6());
        ChannelGroup stream = conv.stream()
                .filter(g -> names(g.producers()).contains("pw"))
                .findFirst()
                .orElseThrow();
        assertEquals(List.of("pw", "shortcut"), names(stream.producers()));
        assertEquals(List.of("fc"), names(stream.consumers()));
        assertEquals(List.of("f1"), stream.quantizedTensors());
        // fc's logits reach the model output through softmax: no group.
        assertTrue(conv.stream().noneMatch(g -> names(g.producers()).contains("fc")));

        List<ChannelGroup> resnet = ChannelGroup.find(TinyModels.resnet8(1));
        ChannelGroup stem = resnet.get(0);
        assertEquals(List.of("conv1", "b1.conv2"), names(stem.producers()));
        assertEquals(List.of("b1.conv1", "b2.conv1", "b2.shortcut"), names(stem.consumers()));
        assertEquals(List.of("conv1.y", "b1.out"), stem.quantizedTensors());
        // Three residual streams and three in-block pairs.
        assertEquals(6, resnet.size());
        // In a plain chain, groups are the pairs.
        Model chain = TinyModels.unbalancedChain(1);
        assertEquals(
                LayerPair.find(chain).stream()
                        .map(p -> List.of(p.first().name(), p.second().name()))
                        .toList(),
                ChannelGroup.find(chain).stream()
                        .map(g -> List.of(
                                names(g.producers()).get(0),
                                names(g.consumers()).get(0)))
                        .toList());
    }

    @Test
    void activationEqualizationOfResidualStreamsNarrowsNoTensorAndStretchesEveryChannel() {
        Model m = TinyModels.resnet8(3);
        int n = 8;
        float[] x = TinyModels.uniform(12, n, m.shape("image"), 0f, 1f);
        TestContext ctx = new TestContext(1, new CalibrationSet("test", m.shape("image"), x, new int[0]));
        Model weightsOnly = cle.apply(m, cle.defaultOptions(), ctx);
        Model eq = cle.apply(m, activationOptions(CrossLayerEqualization.ActivationPairs.ALL, 1), ctx);
        assertSameFunction(m, eq);
        for (ChannelGroup g : ChannelGroup.find(weightsOnly)) {
            double[] widestRelative = new double[g.channels()];
            double[] live = new double[g.channels()];
            for (String t : g.quantizedTensors()) {
                double[] before = channelMax(weightsOnly, x, n, t);
                double[] after = channelMax(eq, x, n, t);
                double widestBefore = java.util.Arrays.stream(before).max().orElseThrow();
                double widestAfter = java.util.Arrays.stream(after).max().orElseThrow();
                assertTrue(
                        widestAfter <= widestBefore * (1 + 1e-4),
                        t + ": widest channel grew from " + widestBefore + " to " + widestAfter);
                for (int c = 0; c < after.length; c++) {
                    widestRelative[c] = Math.max(widestRelative[c], after[c] / widestBefore);
                    live[c] = Math.max(live[c], before[c] / widestBefore);
                }
            }
            // alpha = 1: each channel is stretched until, in one of the group's tensors, it is as wide as that
            // tensor's widest channel (channels never active on the samples are left alone; no stretch exceeds
            // max_scale = 100).
            int stretched = 0;
            for (int c = 0; c < g.channels(); c++) {
                if (live[c] <= 1e-6) {
                    continue;
                }
                stretched++;
                assertEquals(
                        Math.min(1, 100 * live[c]), widestRelative[c], 1e-4, names(g.producers()) + " channel " + c);
            }
            assertTrue(stretched > g.channels() / 2, names(g.producers()) + ": too few live channels to test");
        }
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
