package io.tinyptq.backend.cpu.kernels;

import jdk.incubator.vector.FloatVector;

/**
 * Softmax over the last axis and the two training losses. Softmax and cross-entropy run on {@code N x classes}
 * logits, so they have one scalar implementation (reference and fast path coincide); MSE, which AdaRound
 * evaluates on whole layer outputs, also has a Vector API path ({@link #mse}). Numerics: softmax subtracts the
 * row maximum before {@code exp}; the scalar losses accumulate in double.
 */
public final class Losses {
    private Losses() {}

    /** Row-wise softmax of a {@code rows x cols} matrix. */
    public static void softmax(float[] x, int rows, int cols, float[] y) {
        Checks.positive("softmax dimensions", rows, cols);
        Checks.length("softmax input", x, (long) rows * cols, rows, cols);
        Checks.length("softmax output", y, (long) rows * cols, rows, cols);
        for (int r = 0; r < rows; r++) {
            int o = r * cols;
            float max = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < cols; j++) {
                max = Math.max(max, x[o + j]);
            }
            double sum = 0;
            for (int j = 0; j < cols; j++) {
                float e = (float) Math.exp(x[o + j] - max);
                y[o + j] = e;
                sum += e;
            }
            float inv = (float) (1 / sum);
            for (int j = 0; j < cols; j++) {
                y[o + j] *= inv;
            }
        }
    }

    /**
     * Softmax gradient from its output {@code y}: {@code dx_j += y_j * (dy_j - sum_k dy_k y_k)} (the Jacobian
     * {@code diag(y) - y y^T} applied to {@code dy}).
     */
    public static void softmaxBackward(float[] y, float[] dy, int rows, int cols, float[] dx) {
        Checks.length("softmax output", y, (long) rows * cols, rows, cols);
        Checks.length("softmax output gradient", dy, (long) rows * cols, rows, cols);
        Checks.length("softmax input gradient", dx, (long) rows * cols, rows, cols);
        for (int r = 0; r < rows; r++) {
            int o = r * cols;
            double dot = 0;
            for (int j = 0; j < cols; j++) {
                dot += (double) dy[o + j] * y[o + j];
            }
            for (int j = 0; j < cols; j++) {
                dx[o + j] += (float) (y[o + j] * (dy[o + j] - dot));
            }
        }
    }

    /**
     * Cross-entropy of logits against integer labels, averaged over the batch:
     * {@code L = (1/N) sum_n (logsumexp(z_n) - z_n[label_n])}. Its gradient, fused with the softmax,
     * is {@code dL/dz = (softmax(z) - onehot(label)) / N}, added (times {@code gradScale}) into {@code dLogits}
     * when that is non-null. {@code probs} receives the softmax.
     *
     * @return the mean loss
     */
    public static float crossEntropy(
            float[] logits, int rows, int cols, int[] labels, float[] probs, float[] dLogits, float gradScale) {
        if (labels == null || labels.length < rows) {
            throw new IllegalArgumentException("cross-entropy needs " + rows + " labels");
        }
        softmax(logits, rows, cols, probs);
        double loss = 0;
        for (int r = 0; r < rows; r++) {
            int label = labels[r];
            if (label < 0 || label >= cols) {
                throw new IllegalArgumentException("label " + label + " of row " + r + " outside [0, " + cols + ")");
            }
            loss -= Math.log(Math.max(probs[r * cols + label], Float.MIN_NORMAL));
        }
        if (dLogits != null) {
            Checks.length("cross-entropy logit gradient", dLogits, (long) rows * cols, rows, cols);
            float s = gradScale / rows;
            for (int r = 0; r < rows; r++) {
                for (int j = 0; j < cols; j++) {
                    float target = j == labels[r] ? 1f : 0f;
                    dLogits[r * cols + j] += s * (probs[r * cols + j] - target);
                }
            }
        }
        return (float) (loss / rows);
    }

    /**
     * Kullback-Leibler divergence of the softmax of {@code logits} from the softmax of {@code targetLogits}, averaged
     * over the batch: {@code L = (1/N) sum_n sum_j p_nj (log p_nj - log q_nj)} with {@code p = softmax(target)},
     * {@code q = softmax(z)} (BRECQ's {@code kl_div(log_softmax(out_q), softmax(out_fp), 'batchmean')}). Since
     * {@code sum_j p_nj = 1}, {@code dL/dz_nj = (q_nj - p_nj) / N}, added (times {@code gradScale}) into {@code dLogits}
     * when that is non-null. {@code probs} receives {@code q}, {@code targetProbs} {@code p}.
     *
     * @return the mean divergence
     */
    public static float klDivergence(
            float[] logits,
            float[] targetLogits,
            int rows,
            int cols,
            float[] probs,
            float[] targetProbs,
            float[] dLogits,
            float gradScale) {
        softmax(logits, rows, cols, probs);
        softmax(targetLogits, rows, cols, targetProbs);
        double loss = 0;
        for (int i = 0; i < rows * cols; i++) {
            double p = targetProbs[i];
            if (p > 0) {
                loss += p * (Math.log(p) - Math.log(Math.max(probs[i], Float.MIN_NORMAL)));
            }
        }
        if (dLogits != null) {
            Checks.length("KL logit gradient", dLogits, (long) rows * cols, rows, cols);
            float s = gradScale / rows;
            for (int i = 0; i < rows * cols; i++) {
                dLogits[i] += s * (probs[i] - targetProbs[i]);
            }
        }
        return (float) (loss / rows);
    }

    /**
     * Weighted mean squared error, {@code L = (1/len) sum w (a-b)^2} (BRECQ's Fisher-weighted reconstruction loss
     * with {@code w} the squared, damped output gradients); adds {@code gradScale * 2 w (a-b)/len} into {@code dA}
     * when non-null.
     *
     * @return the mean loss
     */
    public static float weightedMse(float[] a, float[] b, float[] w, int len, float[] dA, float gradScale) {
        Checks.positive("weighted mse length", len);
        Checks.range("prediction", a, 0, len);
        Checks.range("target", b, 0, len);
        Checks.range("weights", w, 0, len);
        double sum = 0;
        float s = 2f * gradScale / len;
        for (int i = 0; i < len; i++) {
            float d = a[i] - b[i];
            sum += (double) w[i] * d * d;
            if (dA != null) {
                dA[i] += s * w[i] * d;
            }
        }
        return (float) (sum / len);
    }

    /**
     * Mean squared error over all elements, {@code L = (1/len) sum (a-b)^2}; adds
     * {@code gradScale * 2(a-b)/len} into {@code dA} when non-null.
     *
     * @return the mean loss
     */
    public static float mseReference(
            float[] a, int aOff, float[] b, int bOff, int len, float[] dA, int dOff, float gradScale) {
        Checks.positive("mse length", len);
        Checks.range("prediction", a, aOff, len);
        Checks.range("target", b, bOff, len);
        double sum = 0;
        float s = 2f * gradScale / len;
        if (dA != null) {
            Checks.range("prediction gradient", dA, dOff, len);
        }
        for (int i = 0; i < len; i++) {
            float d = a[aOff + i] - b[bOff + i];
            sum += (double) d * d;
            if (dA != null) {
                dA[dOff + i] += s * d;
            }
        }
        return (float) (sum / len);
    }

    /**
     * Fast {@link #mseReference}: vectorized, the sum accumulated lane-wise in float (so it differs from the
     * reference by float summation error only); the gradient part is identical.
     */
    public static float mse(float[] a, int aOff, float[] b, int bOff, int len, float[] dA, int dOff, float gradScale) {
        Checks.positive("mse length", len);
        Checks.range("prediction", a, aOff, len);
        Checks.range("target", b, bOff, len);
        if (dA != null) {
            Checks.range("prediction gradient", dA, dOff, len);
        }
        float s = 2f * gradScale / len;
        FloatVector acc = FloatVector.zero(MicroKernel.S);
        int i = 0;
        for (; i <= len - MicroKernel.VL; i += MicroKernel.VL) {
            FloatVector d = FloatVector.fromArray(MicroKernel.S, a, aOff + i)
                    .sub(FloatVector.fromArray(MicroKernel.S, b, bOff + i));
            acc = d.fma(d, acc);
            if (dA != null) {
                d.mul(s).add(FloatVector.fromArray(MicroKernel.S, dA, dOff + i)).intoArray(dA, dOff + i);
            }
        }
        double sum = VectorMath.sumLanes(acc);
        for (; i < len; i++) {
            float d = a[aOff + i] - b[bOff + i];
            sum += (double) d * d;
            if (dA != null) {
                dA[dOff + i] += s * d;
            }
        }
        return (float) (sum / len);
    }
}
