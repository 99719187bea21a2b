package io.tinyptq.kernel.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tinyptq.api.model.Model;
import io.tinyptq.api.model.Shape;
import io.tinyptq.testkit.TinyModels;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link ModelStats} on {@link TinyModels#convNet}, against counts worked out by hand from its architecture. */
class ModelStatsTest {
    final Model net = TinyModels.convNet(1);
    final ModelStats s = ModelStats.of(net);

    @Test
    void macsAndParamsPerLayer() {
        // conv 3x3x3 -> 8 on 8x8 SAME: 8*8*8 outputs x 27 taps; weights 8*27 + 8 biases.
        assertEquals(
                new LayerStats("conv", "conv2d", List.of(Shape.of(8, 8, 3)), Shape.of(8, 8, 8), 13_824, 224, 512, 512),
                s.layers().get(0));
        // depthwise 3x3 stride 2 SAME: 4*4*8 outputs x 9 taps; the bias add counts once per output.
        assertEquals(
                new LayerStats(
                        "dw", "depthwise_conv2d", List.of(Shape.of(8, 8, 8)), Shape.of(4, 4, 8), 1_152, 80, 128, 128),
                s.layers().get(1));
        // The 1x1 shortcut has no bias: nothing on top of its MACs.
        assertEquals(2_048, s.layers().get(3).macs());
        assertEquals(0, s.layers().get(3).table1());
        // avg pool 2x2 stride 1 SAME on 4x4x16: 256 inputs + 256 outputs; the mean: 256 + 16.
        assertEquals(512, s.layers().get(5).table1());
        assertEquals(272, s.layers().get(6).table1());
        // FC 16 -> 5: 80 MACs, its bias not counted by Table 1.
        assertEquals(80, s.layers().get(8).macs());
        assertEquals(0, s.layers().get(8).table1());
    }

    @Test
    void totals() {
        assertEquals(13_824 + 1_152 + 2_048 + 2_048 + 80, s.macs());
        assertEquals(s.macs() + 512 + 128 + 256 + 512 + 272, s.macsTable1());
        assertEquals(224 + 80 + 144 + 128 + 85, s.params());
        assertEquals(19_152L * 4 * 8, s.bops(4, 8));
        assertEquals(661L * 4 + s.peakActivation() * 8, s.peakMemoryBits(4, 8));
    }

    @Test
    void peakActivationCountsEveryTensorLiveWhileAnOpRuns() {
        // Walk: image 192; conv +512 (704), image freed; dw +128 (640), c1 freed; pw +256 (384); the shortcut still
        // needs d1: +256 (640), d1 freed; add +256 -> p1 + s1 + a1 = 768 is the peak; afterwards less.
        assertEquals(768, s.peakActivation());
        assertEquals("add", s.peakOp());
    }

    @Test
    void jsonCarriesTheTotalsUnderStableKeys() {
        String json = s.toJson(8, 8);
        assertEquals(
                true,
                json.startsWith("{\"model\":\"convnet\",\"macs\":19152,\"macs_table1\":20832,\"params\":661,"
                        + "\"peak_activation\":768,\"peak_activation_op\":\"add\",\"wbits\":8,\"abits\":8,\"bops\":1225728,"
                        + "\"peak_memory_bits\":11432,\"layers\":[{\"name\":\"conv\""),
                json);
    }
}
