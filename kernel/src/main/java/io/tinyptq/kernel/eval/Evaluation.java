package io.tinyptq.kernel.eval;

/**
 * Top-1 classification results of a model on a dataset.
 *
 * @param model     the model's name
 * @param dataset   the dataset's name
 * @param confusion {@code confusion[label][predicted]} sample counts
 * @param seconds   wall time of the evaluation, data reading included
 */
public record Evaluation(String model, String dataset, long[][] confusion, double seconds) {

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
}
