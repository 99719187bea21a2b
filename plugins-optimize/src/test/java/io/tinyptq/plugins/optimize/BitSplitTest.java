package io.tinyptq.plugins.optimize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyptq.api.model.Activation;
import io.tinyptq.api.model.Model;
import io.tinyptq.api.model.Op;
import io.tinyptq.api.model.Padding;
import io.tinyptq.api.model.Shape;
import io.tinyptq.api.model.Tensor;
import io.tinyptq.api.options.NoOptions;
import io.tinyptq.api.quant.QuantParams;
import io.tinyptq.api.quant.QuantScheme;
import io.tinyptq.api.quant.QuantizedModel;
import io.tinyptq.api.quant.Quantizer;
import io.tinyptq.api.spi.CalibrationSet;
import io.tinyptq.api.spi.ModelExecutor;
import io.tinyptq.testkit.ReferenceBackend;
import io.tinyptq.testkit.TestContext;
import io.tinyptq.testkit.TinyModels;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class BitSplitTest {
    private final BitSplitOptimizer bits = new BitSplitOptimizer();

    /** A layer whose weights are exactly alpha_o * q with 4-bit codes q. */
    static Model representable(double[] alpha, int[][] codes, Op.Layer layer, Shape in, int[] wdims) {
        float[] w = new float[codes.length * codes[0].length];
        for (int o = 0; o < codes.length; o++) {
            for (int k = 0; k < codes[0].length; k++) {
                w[o * codes[0].length + k] = (float) (alpha[o] * codes[o][k]);
            }
        }
        return Model.builder("exact")
                .input("x", in)
                .constant("w", new Tensor(Shape.of(wdims), w))
                .op(layer)
                .output("y")
                .build();
    }

    static QuantizedModel withScale(Model m, double[] scale, int wbits) {
        QuantizedModel qm = QuantizedModel.simulate(
                m,
                new QuantScheme(
                        wbits,
                        8,
                        16,
                        io.tinyptq.api.quant.Granularity.PER_CHANNEL,
                        io.tinyptq.api.quant.Symmetry.SYMMETRIC,
                        io.tinyptq.api.quant.Symmetry.ASYMMETRIC,
                        java.util.List.of()));
        float[] s = new float[scale.length];
        for (int i = 0; i < s.length; i++) {
            s[i] = (float) scale[i];
        }
        qm.weightQuantizers().values().iterator().next().setParams(new QuantParams(s, new float[s.length]));
        // 16-bit input quantizer over a wide range: practically lossless, so the layer alone is under test.
        Quantizer a = qm.activationQuantizers().get("x");
        a.setParams(new QuantParams(new float[] {1e-3f}, new float[] {32768}));
        return qm;
    }

    @Test
    void reproducesAnExactlyRepresentableWeightFromAWrongStart() {
        SplittableRandom r = new SplittableRandom(3);
        int out = 4;
        int in = 12;
        int[][] codes = new int[out][in];
        double[] alpha = new double[out];
        double[] wrong = new double[out];
        for (int o = 0; o < out; o++) {
            alpha[o] = 0.01 + 0.05 * r.nextDouble();
            wrong[o] = alpha[o] * 1.1;
            for (int k = 0; k < in; k++) {
                codes[o][k] = r.nextInt(-7, 8);
            }
            codes[o][0] = 7;
        }
        Model m = representable(
                alpha,
                codes,
                new Op.FullyConnected("fc", "x", "w", null, "y", Activation.NONE),
                Shape.of(in),
                new int[] {out, in});
        QuantizedModel qm = withScale(m, wrong, 4);
        float[] data = TinyModels.uniform(5, 200, Shape.of(in), -2f, 2f);
        bits.optimize(
                qm,
                new BitSplitOptimizer.Options(Granularity.LAYER, 200, 20, 71),
                new TestContext(1, new CalibrationSet("uniform", Shape.of(in), data, new int[0])));
        float[] w = qm.model().constant("w").data();
        for (int o = 0; o < out; o++) {
            // The 16-bit input quantizer leaves a residual of ~1e-5 relative.
            assertEquals(alpha[o], qm.weightQuantizers().get("fc").params().scale(o), 1e-4 * alpha[o], "scale " + o);
            for (int k = 0; k < in; k++) {
                assertEquals(alpha[o] * codes[o][k], w[o * in + k], 1e-5, "weight " + o + "," + k);
            }
        }
    }

    @Test
    void lowersTheOutputErrorOfAConvolutionAndKeepsWeightsOnTheGrid() {
        Model m = Model.builder("conv")
                .input("x", Shape.of(6, 6, 3))
                .constant("w", TinyModels.gaussian(new SplittableRandom(8), 0.5, 5, 3, 3, 3))
                .op(new Op.Conv2D("conv", "x", "w", null, "y", 2, 2, Padding.SAME, Activation.NONE))
                .output("y")
                .build();
        double[] minmax = new double[5];
        float[] w0 = m.constant("w").data();
        for (int i = 0; i < w0.length; i++) {
            minmax[i / 27] = Math.max(minmax[i / 27], Math.abs(w0[i]) / 3);
        }
        QuantizedModel qm = withScale(m, minmax, 3);
        float[] data = TinyModels.uniform(6, 64, Shape.of(6, 6, 3), -1f, 1f);
        double before = outputError(m, qm, data);
        bits.optimize(
                qm,
                new BitSplitOptimizer.Options(Granularity.LAYER, 64, 5, 71),
                new TestContext(1, new CalibrationSet("uniform", Shape.of(6, 6, 3), data, new int[0])));
        double after = outputError(m, qm, data);
        assertTrue(after < 0.75 * before, before + " -> " + after);
        Quantizer q = qm.weightQuantizers().get("conv");
        float[] w = qm.model().constant("w").data();
        for (int i = 0; i < w.length; i++) {
            double code = w[i] / q.params().scale(i / 27);
            assertEquals(Math.rint(code), code, 1e-3, "weight " + i + " is on the grid");
            assertTrue(code >= -4 && code <= 3);
        }
    }

    /**
     * One Gram matrix per layer: for convolutions and dense layers the shared G and the per-channel b equal what
     * the per-channel normal equations give; for a dense layer both equal the direct sums over samples.
     */
    @Test
    void sharedGramMatrixAndPerChannelRightHandSidesMatchThePerChannelEquations() {
        Model net = TinyModels.convNet(6);
        SplittableRandom r = new SplittableRandom(8);
        for (String name : new String[] {"conv", "pw", "fc"}) {
            Op.Layer layer = (Op.Layer) net.op(name);
            Patches p = Patches.of(net, layer);
            assertTrue(p.sharedPatches());
            int n = 3;
            int inSize = net.shape(layer.input()).size();
            float[] xq = new float[n * inSize];
            float[] xf = new float[n * inSize];
            for (int i = 0; i < xq.length; i++) {
                xf[i] = (float) r.nextDouble(-1, 1);
                xq[i] = xf[i] + (float) r.nextDouble(-0.1, 0.1);
            }
            float[] w = net.constant(layer.weight()).data();
            double[][] shared = p.gram(xq, xf, n, 0, w).g();
            for (int o = 0; o < p.channels(); o++) {
                BitSplitOptimizer.Normal full = p.gram(xq, xf, n, o, w);
                double[] b = p.rhs(xq, xf, n, o, w);
                for (int i = 0; i < b.length; i++) {
                    assertEquals(
                            full.b()[i], b[i], 1e-9 * (1 + Math.abs(b[i])), name + " b[" + i + "] of channel " + o);
                    for (int k = 0; k < b.length; k++) {
                        assertEquals(full.g()[i][k], shared[i][k], 1e-9, name + " G of channel " + o);
                    }
                }
                if (layer instanceof Op.FullyConnected) {
                    // Direct sums: b_i = Σ_s xq_si Σ_k w_ok xf_sk.
                    for (int i = 0; i < inSize; i++) {
                        double direct = 0;
                        for (int s2 = 0; s2 < n; s2++) {
                            double y = 0;
                            for (int k = 0; k < inSize; k++) {
                                y += (double) w[o * inSize + k] * xf[s2 * inSize + k];
                            }
                            direct += xq[s2 * inSize + i] * y;
                        }
                        assertEquals(direct, b[i], 1e-9 * (1 + Math.abs(direct)));
                        // G_ik = Σ_s xq_si xq_sk.
                        for (int k = 0; k < inSize; k++) {
                            double gik = 0;
                            for (int s2 = 0; s2 < n; s2++) {
                                gik += (double) xq[s2 * inSize + i] * xq[s2 * inSize + k];
                            }
                            assertEquals(gik, shared[i][k], 1e-9 * (1 + Math.abs(gik)));
                        }
                    }
                }
            }
        }
        Op.Layer dw = (Op.Layer) net.op("dw");
        assertEquals(false, Patches.of(net, dw).sharedPatches());
    }

    @Test
    void blocksAreRefusedWithTheReason() {
        var e = assertThrows(
                IllegalArgumentException.class, () -> new BitSplitOptimizer.Options(Granularity.BLOCK, 10, 1, 1));
        assertTrue(e.getMessage().startsWith("bits works layer by layer only"), e.getMessage());
    }

    static double outputError(Model fp, QuantizedModel qm, float[] data) {
        int n = data.length / fp.shape("x").size();
        try (ModelExecutor a = new ReferenceBackend().compile(fp, null, n, NoOptions.INSTANCE);
                ModelExecutor b = new ReferenceBackend().compile(qm.model(), qm, n, NoOptions.INSTANCE)) {
            float[] ya = a.forward(data, n, ModelExecutor.ActivationListener.NONE);
            float[] yb = b.forward(data, n, ModelExecutor.ActivationListener.NONE);
            double s = 0;
            for (int i = 0; i < ya.length; i++) {
                s += (ya[i] - yb[i]) * (double) (ya[i] - yb[i]);
            }
            return s / ya.length;
        }
    }
}
