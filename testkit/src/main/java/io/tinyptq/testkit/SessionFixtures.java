package io.tinyptq.testkit;

import io.tinyptq.api.model.Model;
import io.tinyptq.api.model.Op;
import io.tinyptq.api.options.NoOptions;
import io.tinyptq.api.quant.FakeQuant;
import io.tinyptq.api.quant.QuantParams;
import io.tinyptq.api.quant.QuantScheme;
import io.tinyptq.api.quant.QuantizedModel;
import io.tinyptq.api.quant.Quantizer;
import io.tinyptq.api.spi.ModelExecutor;
import io.tinyptq.api.spi.TrainingOps;
import io.tinyptq.api.spi.TrainingSession;

/** What the tests of training sessions share: a quantized model, the reference forward pass, the MSE, the hard loss. */
public final class SessionFixtures {
    private SessionFixtures() {}

    /**
     * {@code m} quantized at {@code wbits}/{@code abits}: symmetric per-channel weight steps from each channel's largest
     * magnitude, every activation grid over [-1.5, 3].
     */
    public static QuantizedModel quantized(Model m, int wbits, int abits) {
        QuantizedModel qm = QuantizedModel.simulate(m, QuantScheme.of(wbits, abits));
        for (Quantizer q : qm.weightQuantizers().values()) {
            var l = (Op.Layer) m.op(q.target());
            var w = m.constant(l.weight());
            int c = w.shape().dim(q.spec().channelAxis());
            float[] s = new float[c];
            float[] data = w.data();
            int[] d = w.shape().dims();
            int in = 1;
            for (int k = q.spec().channelAxis() + 1; k < d.length; k++) {
                in *= d[k];
            }
            for (int i = 0; i < data.length; i++) {
                int ch = (i / in) % c;
                s[ch] = Math.max(s[ch], Math.abs(data[i]));
            }
            for (int ch = 0; ch < c; ch++) {
                s[ch] = FakeQuant.symmetricScale(s[ch], q.spec().grid());
            }
            q.setParams(new QuantParams(s, new float[c]));
        }
        for (Quantizer q : qm.activationQuantizers().values()) {
            float[] sz = FakeQuant.asymmetricFromRange(-1.5f, 3f, q.spec().grid());
            q.setParams(new QuantParams(new float[] {sz[0]}, new float[] {sz[1]}));
        }
        return qm;
    }

    /** {@code m}'s output on {@code n} samples through the reference backend, quantized by {@code q} (or float). */
    public static float[] run(Model m, QuantizedModel q, float[] x, int n) {
        try (ModelExecutor e = new ReferenceBackend().compile(m, q, n, NoOptions.INSTANCE)) {
            return e.forward(x, n, ModelExecutor.ActivationListener.NONE);
        }
    }

    public static double mse(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += (a[i] - b[i]) * (double) (a[i] - b[i]);
        }
        return s / a.length;
    }

    /** The loss of the rounding commit keeps: {@code loss()} with every rounding operation in its hard form. */
    public static double hardLoss(TrainingSession s) {
        s.hyperparameter(TrainingOps.ROUNDING_HARD, 1);
        try {
            return s.loss();
        } finally {
            s.hyperparameter(TrainingOps.ROUNDING_HARD, 0);
        }
    }
}
