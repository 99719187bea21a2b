package io.tinyptq.backend.cpu.kernels;

/**
 * Batch normalization over the channel (last) axis of {@code rows x C} activations (rows = batch × positions),
 * Ioffe and Szegedy 2015.
 *
 * <p>Training: {@code mu_c = (1/R) Σ_r x_rc}, {@code var_c = (1/R) Σ_r (x_rc - mu_c)^2} (biased, as Keras and
 * PyTorch normalize), {@code xhat = (x - mu) / sqrt(var + eps)}, {@code y = gamma xhat + beta}. The backward pass
 * follows from differentiating through mu and var: with {@code g = dy · gamma},
 * {@code dx = (1/sqrt(var+eps)) (g - mean_r(g) - xhat mean_r(g · xhat))}, {@code dgamma = Σ_r dy xhat},
 * {@code dbeta = Σ_r dy}.
 *
 * <p>Inference: the running statistics make it a per-channel affine {@code y = a x + b} with
 * {@code a = gamma / sqrt(var + eps)}, {@code b = beta - a mean}.
 *
 * <p>Plain loops over flat arrays; statistics accumulate in double so long reductions stay exact enough.
 */
public final class BatchNorm {
    private BatchNorm() {}

    /**
     * Normalizes with the batch statistics; writes {@code y}, {@code xhat} (kept for backward), the batch mean
     * and {@code invStd = 1/sqrt(var+eps)}, and the biased batch variance into {@code var}. {@code acc} is
     * scratch of at least {@code c} doubles (callers preallocate it so a training step allocates nothing).
     */
    public static void forwardTraining(
            float[] x,
            int rows,
            int c,
            float[] gamma,
            float[] beta,
            float eps,
            float[] mean,
            float[] var,
            float[] invStd,
            float[] xhat,
            float[] y,
            double[] acc) {
        double[] sum = acc;
        java.util.Arrays.fill(sum, 0, c, 0);
        for (int r = 0; r < rows; r++) {
            int o = r * c;
            for (int k = 0; k < c; k++) {
                sum[k] += x[o + k];
            }
        }
        for (int k = 0; k < c; k++) {
            mean[k] = (float) (sum[k] / rows);
            sum[k] = 0;
        }
        for (int r = 0; r < rows; r++) {
            int o = r * c;
            for (int k = 0; k < c; k++) {
                double d = x[o + k] - mean[k];
                sum[k] += d * d;
            }
        }
        for (int k = 0; k < c; k++) {
            var[k] = (float) (sum[k] / rows);
            invStd[k] = (float) (1 / Math.sqrt((double) var[k] + eps));
        }
        for (int r = 0; r < rows; r++) {
            int o = r * c;
            for (int k = 0; k < c; k++) {
                float h = (x[o + k] - mean[k]) * invStd[k];
                xhat[o + k] = h;
                y[o + k] = gamma[k] * h + beta[k];
            }
        }
    }

    /**
     * Gradients of {@link #forwardTraining}: adds into {@code dx} (when non-null), {@code dgamma} and
     * {@code dbeta} (when non-null). {@code acc} is scratch of at least {@code 2c} doubles.
     */
    public static void backwardTraining(
            float[] dy,
            float[] xhat,
            float[] invStd,
            float[] gamma,
            int rows,
            int c,
            float[] dx,
            float[] dgamma,
            float[] dbeta,
            double[] acc) {
        java.util.Arrays.fill(acc, 0, 2 * c, 0);
        for (int r = 0; r < rows; r++) {
            int o = r * c;
            for (int k = 0; k < c; k++) {
                double d = dy[o + k];
                acc[k] += d;
                acc[c + k] += d * xhat[o + k];
            }
        }
        for (int k = 0; k < c; k++) {
            if (dgamma != null) {
                dgamma[k] += (float) acc[c + k];
            }
            if (dbeta != null) {
                dbeta[k] += (float) acc[k];
            }
        }
        if (dx == null) {
            return;
        }
        for (int r = 0; r < rows; r++) {
            int o = r * c;
            for (int k = 0; k < c; k++) {
                // mean_r(g) = gamma Σdy / R and mean_r(g xhat) = gamma Σ(dy xhat) / R.
                double meanG = gamma[k] * acc[k] / rows;
                double meanGx = gamma[k] * acc[c + k] / rows;
                dx[o + k] += (float) (invStd[k] * (dy[o + k] * gamma[k] - meanG - xhat[o + k] * meanGx));
            }
        }
    }

    /** Exponential moving average of the statistics: {@code running = momentum running + (1 - momentum) batch}. */
    public static void updateRunning(float[] running, float[] batch, float momentum) {
        for (int k = 0; k < running.length; k++) {
            running[k] = momentum * running[k] + (1 - momentum) * batch[k];
        }
    }

    /** The inference affine's scale {@code a} and shift {@code b} from the running statistics. */
    public static void affine(float[] gamma, float[] beta, float[] mean, float[] var, float eps, float[] a, float[] b) {
        for (int k = 0; k < gamma.length; k++) {
            double s = gamma[k] / Math.sqrt((double) var[k] + eps);
            a[k] = (float) s;
            b[k] = (float) (beta[k] - s * mean[k]);
        }
    }

    /** {@code y = a x + b} per channel (inference); {@code y} may be {@code x}. */
    public static void forwardAffine(float[] x, int rows, int c, float[] a, float[] b, float[] y) {
        for (int r = 0; r < rows; r++) {
            int o = r * c;
            for (int k = 0; k < c; k++) {
                y[o + k] = a[k] * x[o + k] + b[k];
            }
        }
    }
}
