package io.tinyptq.kernel.eval;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Locale;
import java.util.Optional;

/**
 * Top-1 classification results of a model on a dataset.
 *
 * @param model     the model's name
 * @param dataset   the dataset's name
 * @param confusion {@code confusion[label][predicted]} sample counts
 * @param seconds   wall time of the evaluation, data reading included
 * @param crossEntropy mean cross-entropy of the outputs against the labels (outputs read as probabilities when
 *                  the model ends in a softmax, else as logits), or NaN when not computed
 * @param nonFinite samples whose output holds a NaN or an infinity (their prediction means nothing: a model that
 *                  overflows would otherwise score as if it guessed class 0)
 */
public record Evaluation(
        String model, String dataset, long[][] confusion, double seconds, double crossEntropy, long nonFinite) {

    public Evaluation(String model, String dataset, long[][] confusion, double seconds) {
        this(model, dataset, confusion, seconds, Double.NaN, 0);
    }

    /** A one-line warning when some outputs were not finite, else empty. */
    public Optional<String> warning() {
        return nonFinite == 0
                ? Optional.empty()
                : Optional.of(String.format(
                        Locale.ROOT,
                        "warning: %d of %d samples of %s gave non-finite outputs (NaN or infinity) from model %s; their"
                                + " predictions, and so this accuracy, mean nothing",
                        nonFinite,
                        samples(),
                        dataset,
                        model));
    }

    public int classes() {
        return confusion.length;
    }

    /** Samples evaluated. */
    public long samples() {
        long n = 0;
        for (long[] row : confusion) {
            for (long v : row) {
                n += v;
            }
        }
        return n;
    }

    /** Samples whose arg-max prediction equals the label. */
    public long correct() {
        long n = 0;
        for (int c = 0; c < confusion.length; c++) {
            n += confusion[c][c];
        }
        return n;
    }

    /** Top-1 accuracy in percent. */
    public double accuracy() {
        return 100.0 * correct() / samples();
    }

    /** Samples labelled {@code label}. */
    public long classSamples(int label) {
        long n = 0;
        for (long v : confusion[label]) {
            n += v;
        }
        return n;
    }

    /** Accuracy on the samples labelled {@code label}, in percent; NaN when there are none. */
    public double classAccuracy(int label) {
        long n = classSamples(label);
        return n == 0 ? Double.NaN : 100.0 * confusion[label][label] / n;
    }

    /**
     * The results as one line of JSON ({@code tinyptq eval --json}): {@code model}, {@code data},
     * {@code samples}, {@code correct}, {@code accuracy} (percent), {@code per_class} (class, samples, correct,
     * accuracy), {@code confusion} (rows: label, columns: prediction) and {@code seconds}.
     */
    public String toJson() {
        ObjectMapper json = new ObjectMapper();
        ObjectNode n = json.createObjectNode();
        n.put("model", model);
        n.put("data", dataset);
        n.put("samples", samples());
        n.put("correct", correct());
        n.put("accuracy", accuracy());
        if (Double.isFinite(crossEntropy)) {
            n.put("cross_entropy", crossEntropy);
        }
        n.put("non_finite_samples", nonFinite);
        ArrayNode perClass = n.putArray("per_class");
        for (int c = 0; c < classes(); c++) {
            ObjectNode row = perClass.addObject();
            row.put("class", c);
            row.put("samples", classSamples(c));
            row.put("correct", confusion[c][c]);
            if (classSamples(c) > 0) {
                row.put("accuracy", classAccuracy(c));
            } else {
                row.putNull("accuracy");
            }
        }
        ArrayNode matrix = n.putArray("confusion");
        for (long[] row : confusion) {
            ArrayNode r = matrix.addArray();
            for (long v : row) {
                r.add(v);
            }
        }
        n.put("seconds", seconds);
        try {
            return json.writeValueAsString(n);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a JSON tree of numbers and strings always serializes", e);
        }
    }
}
