package io.tinyptq.kernel.train;

import io.tinyptq.api.TinyPtqException;
import io.tinyptq.api.model.Model;
import io.tinyptq.api.quant.QuantizedModel;
import io.tinyptq.api.spi.Dataset;
import io.tinyptq.api.spi.ProgressListener;
import io.tinyptq.api.spi.StageContext;
import io.tinyptq.api.spi.TrainingProblem;
import io.tinyptq.api.spi.TrainingSession;
import io.tinyptq.api.spi.TrainingSettings;
import io.tinyptq.api.spi.Variable;
import io.tinyptq.kernel.data.Subset;
import io.tinyptq.kernel.eval.Evaluation;
import io.tinyptq.kernel.eval.Evaluator;
import io.tinyptq.kernel.pipeline.CancellationToken;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Trains a float model from scratch through the backend's training sessions: Adam on the cross-entropy of
 * seeded mini-batches, a cosine learning-rate decay to 1 % over the epochs, and early stopping on a validation
 * split held out from the training data (the best epoch's weights are kept; training stops after
 * {@code patience} epochs without improvement).
 */
public final class Trainer {
    private Trainer() {
    }

    /**
     * @param validation fraction of the training samples held out for early stopping
     * @param patience   epochs without a better validation accuracy before stopping
     */
    public record Settings(int epochs, double learningRate, int batchSize, double validation, int patience, long seed) {
        public Settings {
            if (epochs < 1 || !(learningRate > 0) || batchSize < 1 || validation < 0 || validation >= 1 || patience < 1) {
                throw new IllegalArgumentException("training settings out of range: " + this);
            }
        }
    }

    public record Epoch(int epoch, double learningRate, double loss, double validationAccuracy, double seconds) {
        public String line() {
            return String.format(Locale.ROOT, "epoch %d: lr %.2g, train loss %.4f, validation accuracy %.2f %%, %.1f s",
                    epoch, learningRate, loss, validationAccuracy, seconds);
        }
    }

    /** The best model and the history. */
    public record Result(Model model, int bestEpoch, double bestValidationAccuracy, List<Epoch> epochs, double seconds) {
    }

    public static Result train(StageContext.BoundBackend backend, Model init, Dataset data, Settings s,
                               ProgressListener progress, CancellationToken cancel) {
        int n = data.size();
        int[] perm = new int[n];
        for (int i = 0; i < n; i++) {
            perm[i] = i;
        }
        SplittableRandom r = new SplittableRandom(s.seed());
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        int nVal = (int) Math.round(n * s.validation());
        int nTrain = n - nVal;
        if (nTrain < 1) {
            throw new TinyPtqException("dataset '" + data.name() + "' has " + n + " samples: none left to train on");
        }
        int[] valIdx = Arrays.copyOfRange(perm, nTrain, n);
        int sample = data.sampleShape().size();
        float[] x = new float[nTrain * sample];
        int[] y = new int[nTrain];
        for (int i = 0; i < nTrain; i++) {
            data.read(perm[i], x, i * sample);
            y[i] = data.label(perm[i]);
        }
        Dataset validation = new Subset(data, valIdx, "validation split");
        QuantizedModel fp = QuantizedModel.floatOnly(init);
        List<Epoch> history = new ArrayList<>();
        Model best = init;
        double bestAcc = -1;
        int bestEpoch = 0;
        long start = System.nanoTime();
        int steps = (nTrain + s.batchSize() - 1) / s.batchSize();
        try (TrainingSession session = backend.train(TrainingProblem.classification(fp, Set.of(Variable.WEIGHTS), x, y,
                false), new TrainingSettings(s.learningRate(), s.batchSize(), s.seed()))) {
            for (int epoch = 1; epoch <= s.epochs(); epoch++) {
                long t0 = System.nanoTime();
                // Cosine decay from lr to lr/100 (Loshchilov and Hutter 2017, without restarts).
                double lr = s.learningRate() * (0.01 + 0.99 * 0.5 * (1 + Math.cos(Math.PI * (epoch - 1) / s.epochs())));
                session.learningRate(lr);
                double loss = 0;
                for (int done = 0; done < steps; done += 50) {
                    int k = Math.min(50, steps - done);
                    loss += session.run(k, TrainingSession.Rounding.NONE) * k;
                    progress.progress("train epoch " + epoch + "/" + s.epochs(), done + k, steps);
                    cancel.check("training epoch " + epoch);
                }
                session.commit();
                double acc = validation.size() == 0 ? Double.NaN
                        : Evaluator.run(backend, fp.model(), null, validation, 256, 0, ProgressListener.NONE).accuracy();
                Epoch e = new Epoch(epoch, lr, loss / steps, acc, (System.nanoTime() - t0) / 1e9);
                history.add(e);
                progress.message(e.line());
                if (validation.size() == 0 || acc > bestAcc) {
                    bestAcc = acc;
                    bestEpoch = epoch;
                    best = fp.model();
                } else if (epoch - bestEpoch >= s.patience()) {
                    progress.message("early stop: no better validation accuracy for " + s.patience() + " epochs; keeping"
                            + " epoch " + bestEpoch);
                    break;
                }
            }
        }
        return new Result(best, bestEpoch, bestAcc, history, (System.nanoTime() - start) / 1e9);
    }

    /** Accuracy of a model on a dataset, as the trainer reports it. */
    public static Evaluation evaluate(StageContext.BoundBackend backend, Model model, Dataset data) {
        return Evaluator.run(backend, model, null, data, 256, 0, ProgressListener.NONE);
    }
}
