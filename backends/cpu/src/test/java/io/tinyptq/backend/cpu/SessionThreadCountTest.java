package io.tinyptq.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tinyptq.api.model.Model;
import io.tinyptq.api.quant.QuantizedModel;
import io.tinyptq.api.spi.StepControl;
import io.tinyptq.api.spi.TrainingProblem;
import io.tinyptq.api.spi.TrainingSession;
import io.tinyptq.api.spi.TrainingSettings;
import io.tinyptq.api.spi.Variable;
import io.tinyptq.testkit.SessionFixtures;
import io.tinyptq.testkit.TinyModels;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A reconstruction gives the same bits with 1, 2 and 3 backend threads: the losses it reports and every committed
 * weight, bias, scale and zero point. The net has each layer kind whose gradients the threads share (a convolution,
 * a depthwise convolution whose batch of 16 has 64 output rows, 1x1 convolutions, a residual add, pooling, a dense
 * layer), and activation quantizers, so LSQ trains their scales and zero points too.
 */
class SessionThreadCountTest {
    static final int N = 64;

    @ParameterizedTest
    @EnumSource(
            value = Variable.class,
            names = {"QPARAMS", "WEIGHTS", "ROUNDING"})
    void trainingHasTheSameBitsForEveryThreadCount(Variable variable) {
        Model m = TinyModels.convNet(2);
        float[] x = TinyModels.uniform(3, N, m.shape("image"), -1f, 1f);
        float[] target = SessionFixtures.run(m, null, x, N);
        Trained one = train(m, x, target, variable, 1);
        for (int threads : new int[] {2, 3}) {
            Trained other = train(m, x, target, variable, threads);
            String what = variable + " with " + threads + " threads";
            assertEquals(one.losses, other.losses, what + ": losses");
            assertEquals(one.values.keySet(), other.values.keySet(), what);
            one.values.forEach((k, v) -> assertArrayEquals(v, other.values.get(k), what + ": " + k));
        }
    }

    private record Trained(List<Double> losses, Map<String, float[]> values) {}

    private static Trained train(Model m, float[] x, float[] target, Variable variable, int threads) {
        QuantizedModel qm = SessionFixtures.quantized(m, 4, 4);
        List<Double> losses = new ArrayList<>();
        try (TrainingSession s = new CpuBackend()
                .train(
                        new TrainingProblem(qm, Set.of(variable), x, target, N, true, null),
                        new TrainingSettings(1e-3, 16, 1),
                        new CpuBackend.Options(threads))) {
            for (int i = 0; i < 4; i++) {
                losses.add(s.run(10, StepControl.NONE));
            }
            losses.add(s.loss());
            s.commit();
        }
        Map<String, float[]> values = new TreeMap<>();
        qm.model().constants().forEach((k, t) -> values.put("constant " + k, t.data()));
        qm.weightQuantizers().forEach((k, q) -> {
            values.put("weight scale " + k, q.params().scale());
            values.put("weight zero point " + k, q.params().zeroPoint());
        });
        qm.activationQuantizers().forEach((k, q) -> {
            values.put("activation scale " + k, q.params().scale());
            values.put("activation zero point " + k, q.params().zeroPoint());
        });
        return new Trained(losses, values);
    }
}
