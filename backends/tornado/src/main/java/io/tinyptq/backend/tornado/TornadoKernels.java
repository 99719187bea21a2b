package io.tinyptq.backend.tornado;

import io.tinyptq.backend.kernels.ReconKernels;
import uk.ac.manchester.tornado.api.annotations.Parallel;

/**
 * The task methods TornadoVM compiles: each is {@link ReconKernels}' plain loop with its index marked
 * {@code @Parallel}, so TornadoVM maps one iteration to one device thread and inlines the body. Loop bounds are
 * array lengths (TornadoVM sizes the launch from them); everything else the bodies read from {@code dims} and
 * {@code hyper}. Keep these one-liners: the bodies are what the default build tests.
 */
final class TornadoKernels {
    private TornadoKernels() {}

    static void gatherInput(float[] inputs, int[] rows, float[] x, int[] dims, float[] hyper) {
        for (@Parallel int i = 0; i < x.length; i++) {
            ReconKernels.gatherInputAt(i, inputs, rows, x, dims, hyper);
        }
    }

    static void quantizeWeights(
            float[] w, float[] v, float[] scale, float[] zero, float[] wq, int[] dims, float[] hyper) {
        for (@Parallel int j = 0; j < wq.length; j++) {
            ReconKernels.quantizeWeightAt(j, w, v, scale, zero, wq, dims, hyper);
        }
    }

    static void forwardLoss(
            float[] x,
            float[] wq,
            float[] bias,
            float[] targets,
            int[] rows,
            float[] dy,
            float[] sq,
            int[] dims,
            float[] hyper) {
        for (@Parallel int o = 0; o < dy.length; o++) {
            ReconKernels.forwardLossAt(o, x, wq, bias, targets, rows, dy, sq, dims, hyper);
        }
    }

    static void loss(float[] sq, float[] lossAcc, int[] dims, float[] hyper) {
        for (@Parallel int p = 0; p < lossAcc.length; p++) {
            ReconKernels.lossAt(p, sq, lossAcc, dims, hyper);
        }
    }

    static void weightGrad(float[] x, float[] dy, float[] gwPart, int[] dims, float[] hyper) {
        for (@Parallel int j = 0; j < gwPart.length; j++) {
            ReconKernels.weightGradAt(j, x, dy, gwPart, dims, hyper);
        }
    }

    static void update(
            float[] w,
            float[] v,
            float[] gwPart,
            float[] scale,
            float[] zero,
            float[] m1,
            float[] m2,
            int[] dims,
            float[] hyper) {
        for (@Parallel int j = 0; j < v.length; j++) {
            ReconKernels.updateAt(j, w, v, gwPart, scale, zero, m1, m2, dims, hyper);
        }
    }

    static void biasUpdate(float[] dy, float[] bias, float[] m1, float[] m2, int[] dims, float[] hyper) {
        for (@Parallel int oc = 0; oc < bias.length; oc++) {
            ReconKernels.biasUpdateAt(oc, dy, bias, m1, m2, dims, hyper);
        }
    }
}
