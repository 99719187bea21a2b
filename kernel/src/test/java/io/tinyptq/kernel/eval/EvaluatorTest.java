package io.tinyptq.kernel.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyptq.api.TinyPtqException;
import io.tinyptq.api.model.Model;
import io.tinyptq.api.model.Shape;
import io.tinyptq.api.spi.Dataset;
import io.tinyptq.api.spi.ModelExecutor;
import io.tinyptq.api.spi.ProgressListener;
import io.tinyptq.api.spi.StageContext;
import io.tinyptq.kernel.pipeline.BoundBackends;
import io.tinyptq.testkit.ReferenceBackend;
import io.tinyptq.testkit.TinyModels;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class EvaluatorTest {
    final StageContext.BoundBackend reference = BoundBackends.withDefaults(new ReferenceBackend());

    /** Seeded random samples; labels chosen so that some are right and some wrong. */
    static Dataset data(int n, Shape shape, int classes) {
        SplittableRandom r = new SplittableRandom(5);
        float[][] x = new float[n][shape.size()];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < shape.size(); j++) {
                x[i][j] = (float) (r.nextDouble() * 2 - 1);
            }
            y[i] = r.nextInt(classes);
        }
        return new Dataset() {
            public String name() {
                return "random";
            }

            public int size() {
                return n;
            }

            public Shape sampleShape() {
                return shape;
            }

            public int numClasses() {
                return classes;
            }

            public void read(int index, float[] dst, int offset) {
                System.arraycopy(x[index], 0, dst, offset, x[index].length);
            }

            public int label(int index) {
                return y[index];
            }
        };
    }

    @Test
    void confusionMatrixMatchesOneSampleAtATimeArgmax() {
        Model net = TinyModels.convNet(3);
        Dataset ds = data(23, Shape.of(8, 8, 3), 5);
        long[][] expected = new long[5][5];
        try (ModelExecutor one = reference.compile(net, null, 1)) {
            float[] x = new float[ds.sampleShape().size()];
            for (int i = 0; i < ds.size(); i++) {
                ds.read(i, x, 0);
                float[] p = one.forward(x, 1, ModelExecutor.ActivationListener.NONE);
                int best = 0;
                for (int c = 1; c < p.length; c++) {
                    best = p[c] > p[best] ? c : best;
                }
                expected[ds.label(i)][best]++;
            }
        }
        List<Long> progress = new ArrayList<>();
        // Batches of 4 leave a remainder of 3: the last, partial batch must count too.
        Evaluation e = Evaluator.run(reference, net, null, ds, 4, 0, new ProgressListener() {
            public void progress(String task, long done, long total) {
                progress.add(done);
            }

            public void message(String text) {}
        });
        for (int c = 0; c < 5; c++) {
            assertArrayEquals(expected[c], e.confusion()[c], "row " + c);
        }
        assertEquals(23, e.samples());
        long correct = 0;
        for (int c = 0; c < 5; c++) {
            correct += expected[c][c];
        }
        assertEquals(100.0 * correct / 23, e.accuracy(), 1e-12);
        assertEquals(List.of(0L, 4L, 8L, 12L, 16L, 20L, 23L), progress);
        assertEquals(
                11,
                Evaluator.run(reference, net, null, ds, 64, 11, ProgressListener.NONE)
                        .samples());
    }

    @Test
    void perClassAccuracyAndTies() {
        Evaluation e = new Evaluation("m", "d", new long[][] {{3, 1}, {0, 0}}, 1.0);
        assertEquals(75.0, e.classAccuracy(0));
        assertTrue(Double.isNaN(e.classAccuracy(1)));
        assertEquals(0, Evaluator.argmax(new float[] {9, 1, 1, 0}, 1, 3), "ties go to the lowest index");
        assertTrue(
                e.toJson()
                        .contains("\"per_class\":[{\"class\":0,\"samples\":4,\"correct\":3,\"accuracy\":75.0},"
                                + "{\"class\":1,\"samples\":0,\"correct\":0,\"accuracy\":null}]"),
                e.toJson());
    }

    @Test
    void shapeAndClassMismatchesAreExplained() {
        Model net = TinyModels.convNet(3);
        var e = assertThrows(
                TinyPtqException.class,
                () -> Evaluator.run(reference, net, null, data(2, Shape.of(8, 8, 1), 5), 8, 0, ProgressListener.NONE));
        assertEquals(
                "dataset 'random' has samples of shape [8,8,1] but model 'convnet' input 'image' expects [8,8,3]",
                e.getMessage());
        e = assertThrows(
                TinyPtqException.class,
                () -> Evaluator.run(reference, net, null, data(2, Shape.of(8, 8, 3), 10), 8, 0, ProgressListener.NONE));
        assertEquals("model 'convnet' outputs 5 values per sample but dataset 'random' has 10 classes", e.getMessage());
    }

    /** An output that overflows is counted, warned about and reported, not scored as a prediction of class 0. */
    @Test
    void nonFiniteOutputsAreCountedAndWarnedAbout() {
        Model net = TinyModels.mlp(1, 4, 5, 2);
        float[] w = net.constant("fc2.w").data().clone();
        java.util.Arrays.fill(w, 3e38f);
        Model overflowing = net.toBuilder()
                .constant(
                        "fc2.w",
                        new io.tinyptq.api.model.Tensor(net.constant("fc2.w").shape(), w))
                .build();
        Dataset ds = data(10, Shape.of(4), 2);
        Evaluation fine = Evaluator.run(reference, net, null, ds, 4, 0, ProgressListener.NONE);
        assertEquals(0, fine.nonFinite());
        assertTrue(fine.warning().isEmpty());
        Evaluation e = Evaluator.run(reference, overflowing, null, ds, 4, 0, ProgressListener.NONE);
        assertTrue(e.nonFinite() > 0, "samples with non-finite outputs: " + e.nonFinite());
        assertTrue(
                e.warning()
                        .orElseThrow()
                        .startsWith(
                                "warning: " + e.nonFinite() + " of 10 samples of random gave" + " non-finite outputs"),
                e.warning().orElseThrow());
        assertTrue(e.toJson().contains("\"non_finite_samples\":" + e.nonFinite()), e.toJson());
    }
}
