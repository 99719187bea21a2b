package io.tinyptq.kernel.train;

import io.tinyptq.api.TinyPtqException;
import io.tinyptq.api.model.Model;
import io.tinyptq.api.model.Op;
import io.tinyptq.api.quant.QuantizedModel;
import io.tinyptq.api.spi.Dataset;
import io.tinyptq.api.spi.ModelExecutor;
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
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Trains a float model from scratch through the backend's training sessions: Adam on the cross-entropy of
 * seeded mini-batches, a cosine learning-rate decay to 1 % over the epochs, and early stopping on a validation
 * split held out from the training data (the best epoch's weights are kept; training stops after
 * {@code patience} epochs without improvement of the monitored validation loss or accuracy).
 *
 * <p>The validation split holds out whole groups when the dataset has them ({@link Dataset#group}: HAR's
 * subjects), so that early stopping measures accuracy on people the model has not seen, as the test set does;
 * windows of one subject are strongly correlated, and a random split would overrate every epoch. BatchNorm layers
 * train with batch statistics and keep running statistics for evaluation; the caller folds them before storing.
 */
public final class Trainer {
    private Trainer() {}

    /**
     * @param validation fraction of the training samples held out for early stopping
     * @param patience   epochs without a better validation accuracy before stopping
     */
    public record Settings(
            int epochs,
            double learningRate,
            int batchSize,
            double validation,
            int patience,
            long seed,
            Split split,
            Monitor monitor) {
        public Settings(int epochs, double learningRate, int batchSize, double validation, int patience, long seed) {
            this(epochs, learningRate, batchSize, validation, patience, seed, Split.AUTO, Monitor.LOSS);
        }

        public Settings {
            // Named one by one: in a compact constructor `this` does not hold the values yet.
            check(epochs >= 1, "epochs", epochs, "an integer >= 1");
            check(
                    learningRate > 0 && Double.isFinite(learningRate),
                    "learning rate",
                    learningRate,
                    "a finite number > 0");
            check(batchSize >= 1, "batch size", batchSize, "an integer >= 1");
            check(validation >= 0 && validation < 1, "validation fraction", validation, "a number in [0, 1)");
            check(patience >= 1, "patience", patience, "an integer >= 1");
        }

        private static void check(boolean ok, String name, Object value, String expected) {
            if (!ok) {
                throw new TinyPtqException("training setting " + name + " is " + value + ", expected " + expected);
            }
        }
    }

    /**
     * What early stopping watches on the validation split: its cross-entropy (the default: it keeps improving
     * while a small validation set's accuracy saturates at 100 %) or its accuracy.
     */
    public enum Monitor {
        LOSS,
        ACCURACY
    }

    /** How the validation samples are chosen: whole groups, random samples, or groups when the data has them. */
    public enum Split {
        AUTO,
        GROUP,
        RANDOM
    }

    /** Which samples validate: their indices in the training data, and the held-out groups (empty for random). */
    public record ValidationSplit(int[] train, int[] validation, List<Integer> groups) {}

    public record Epoch(
            int epoch,
            double learningRate,
            double loss,
            double validationLoss,
            double validationAccuracy,
            double seconds) {
        public String line() {
            return String.format(
                    Locale.ROOT,
                    "epoch %d: lr %.2g, train loss %.4f, validation loss %.4f," + " accuracy %.2f %%, %.1f s",
                    epoch,
                    learningRate,
                    loss,
                    validationLoss,
                    validationAccuracy,
                    seconds);
        }
    }

    /** The best model, the history, and the held-out validation groups (empty for a random split). */
    public record Result(
            Model model,
            int bestEpoch,
            double bestValidationAccuracy,
            List<Epoch> epochs,
            double seconds,
            List<Integer> validationGroups) {}

    /**
     * The seeded validation split. By group: the distinct groups in a seeded random order, taken until they hold at
     * least {@code fraction} of the samples (at least one group, never all); randomly: the last
     * {@code round(n * fraction)} samples of a seeded permutation. Training samples keep the permutation's order.
     */
    public static ValidationSplit split(Dataset data, double fraction, Split how, long seed) {
        int n = data.size();
        int[] perm = new int[n];
        for (int i = 0; i < n; i++) {
            perm[i] = i;
        }
        SplittableRandom r = new SplittableRandom(seed);
        shuffle(perm, r);
        boolean byGroup = how == Split.GROUP || how == Split.AUTO && data.hasGroups();
        if (how == Split.GROUP && !data.hasGroups()) {
            throw new TinyPtqException("dataset '" + data.name() + "' has no groups to split by (its descriptor needs a"
                    + " 'groups' file); use a random validation split");
        }
        if (!byGroup || fraction == 0) {
            int nVal = (int) Math.round(n * fraction);
            return new ValidationSplit(Arrays.copyOf(perm, n - nVal), Arrays.copyOfRange(perm, n - nVal, n), List.of());
        }
        TreeMap<Integer, Integer> counts = new TreeMap<>();
        for (int i = 0; i < n; i++) {
            counts.merge(data.group(i), 1, Integer::sum);
        }
        int[] groups = counts.keySet().stream().mapToInt(Integer::intValue).toArray();
        if (groups.length < 2) {
            throw new TinyPtqException("dataset '" + data.name() + "' has " + groups.length + " group(s); a split by"
                    + " group needs at least two");
        }
        shuffle(groups, r);
        Set<Integer> held = new TreeSet<>();
        int taken = 0;
        for (int g : groups) {
            if (held.size() == groups.length - 1 || taken >= fraction * n && !held.isEmpty()) {
                break;
            }
            held.add(g);
            taken += counts.get(g);
        }
        int[] train =
                Arrays.stream(perm).filter(i -> !held.contains(data.group(i))).toArray();
        int[] val =
                Arrays.stream(perm).filter(i -> held.contains(data.group(i))).toArray();
        return new ValidationSplit(train, val, List.copyOf(held));
    }

    private static void shuffle(int[] a, SplittableRandom r) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }

    public static Result train(
            StageContext.BoundBackend backend,
            Model init,
            Dataset data,
            Settings s,
            ProgressListener progress,
            CancellationToken cancel) {
        ValidationSplit split = split(data, s.validation(), s.split(), s.seed());
        int[] trainIdx = split.train();
        int nTrain = trainIdx.length;
        if (nTrain < 1) {
            throw new TinyPtqException(
                    "dataset '" + data.name() + "' has " + data.size() + " samples: none left to train on");
        }
        if (!split.groups().isEmpty()) {
            progress.message(
                    "validation: " + split.validation().length + " samples of groups " + split.groups() + " held out");
        }
        int[] valIdx = split.validation();
        int sample = data.sampleShape().size();
        float[] x = new float[nTrain * sample];
        int[] y = new int[nTrain];
        for (int i = 0; i < nTrain; i++) {
            data.read(trainIdx[i], x, i * sample);
            y[i] = data.label(trainIdx[i]);
        }
        Dataset validation = new Subset(data, valIdx, "validation split");
        QuantizedModel fp = QuantizedModel.floatOnly(init);
        List<Epoch> history = new ArrayList<>();
        Model best = init;
        double bestAcc = -1;
        double bestLoss = Double.POSITIVE_INFINITY;
        int bestEpoch = 0;
        long start = System.nanoTime();
        int steps = (nTrain + s.batchSize() - 1) / s.batchSize();
        try (TrainingSession session = backend.train(
                TrainingProblem.classification(fp, Set.of(Variable.WEIGHTS), x, y, false),
                new TrainingSettings(s.learningRate(), s.batchSize(), s.seed()))) {
            for (int epoch = 1; epoch <= s.epochs(); epoch++) {
                long t0 = System.nanoTime();
                // Cosine decay from lr to lr/100 (Loshchilov and Hutter 2017, without restarts).
                double lr = s.learningRate() * (0.01 + 0.99 * 0.5 * (1 + Math.cos(Math.PI * (epoch - 1) / s.epochs())));
                session.learningRate(lr);
                double loss = 0;
                for (int done = 0; done < steps; done += 50) {
                    int k = Math.min(50, steps - done);
                    double chunk = session.run(k);
                    if (!Double.isFinite(chunk)) {
                        throw new TinyPtqException("training " + fp.model().name() + ": the loss is " + chunk
                                + " in epoch " + epoch + " (steps " + (done + 1) + " to " + (done + k) + " of " + steps
                                + ")" + diverged(session, fp, lr, backend, x, trainIdx, sample));
                    }
                    loss += chunk * k;
                    progress.progress("train epoch " + epoch + "/" + s.epochs(), done + k, steps);
                    cancel.check("training epoch " + epoch);
                }
                session.commit();
                Evaluation v = validation.size() == 0
                        ? null
                        : Evaluator.run(backend, fp.model(), null, validation, 256, 0, ProgressListener.NONE);
                double acc = v == null ? Double.NaN : v.accuracy();
                double vLoss = v == null ? Double.NaN : v.crossEntropy();
                Epoch e = new Epoch(epoch, lr, loss / steps, vLoss, acc, (System.nanoTime() - t0) / 1e9);
                history.add(e);
                progress.message(e.line());
                boolean better = s.monitor() == Monitor.LOSS ? vLoss < bestLoss : acc > bestAcc;
                if (v == null || better) {
                    bestAcc = acc;
                    bestLoss = vLoss;
                    bestEpoch = epoch;
                    best = fp.model();
                } else if (epoch - bestEpoch >= s.patience()) {
                    progress.message(
                            "early stop: no better validation " + (s.monitor() == Monitor.LOSS ? "loss" : "accuracy")
                                    + " for " + s.patience() + " epochs; keeping epoch " + bestEpoch);
                    break;
                }
            }
        }
        return new Result(best, bestEpoch, bestAcc, history, (System.nanoTime() - start) / 1e9, split.groups());
    }

    /** Accuracy of a model on a dataset, as the trainer reports it. */
    public static Evaluation evaluate(StageContext.BoundBackend backend, Model model, Dataset data) {
        return Evaluator.run(backend, model, null, data, 256, 0, ProgressListener.NONE);
    }

    /**
     * Why a loss went non-finite, naming where: a training sample holding NaN or infinite values, else the first
     * layer (in graph order) whose parameters are no longer finite, else the first layer whose outputs overflow on the
     * training samples (weights grown too large); the fix for the last two is a lower learning rate.
     */
    private static String diverged(
            TrainingSession session,
            QuantizedModel fp,
            double lr,
            StageContext.BoundBackend backend,
            float[] x,
            int[] trainIdx,
            int sample) {
        for (int i = 0; i < x.length; i++) {
            if (!Float.isFinite(x[i])) {
                return ": training sample " + trainIdx[i / sample] + " holds " + x[i] + " at value " + (i % sample);
            }
        }
        String lower = "; the training diverged: lower --lr (learning rate now " + lr + ")";
        Model m = fp.model();
        try {
            session.commit();
        } catch (TinyPtqException nonFinite) {
            // The model refuses the trained values: its message names the constant, here named with its layer.
            for (Op op : m.ops()) {
                for (String p : op.parameters()) {
                    if (nonFinite.getMessage().contains("'" + p + "'")) {
                        return ": layer '" + op.name() + "' has NaN or infinite values in '" + p + "'" + lower;
                    }
                }
            }
            return ": " + nonFinite.getMessage() + lower;
        }
        m = fp.model();
        for (Op op : m.ops()) {
            for (String p : op.parameters()) {
                for (float v : m.constant(p).data()) {
                    if (!Float.isFinite(v)) {
                        return ": layer '" + op.name() + "' has NaN or infinite values in '" + p + "'" + lower;
                    }
                }
            }
        }
        int n = Math.min(trainIdx.length, 256);
        String[] first = new String[1];
        try (ModelExecutor e = backend.compile(m, null, n)) {
            e.forward(Arrays.copyOf(x, n * sample), n, (tensor, values, offset, length) -> {
                for (int i = offset; first[0] == null && i < offset + length; i++) {
                    if (!Float.isFinite(values[i])) {
                        first[0] = tensor;
                    }
                }
            });
        }
        if (first[0] != null) {
            String layer =
                    m.producer(first[0]).map(op -> "layer '" + op.name() + "'").orElse("input");
            return ": " + layer + " outputs NaN or infinite values ('" + first[0] + "'), its weights grown too large"
                    + lower;
        }
        return lower;
    }
}
