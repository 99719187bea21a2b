package io.tinyptq.plugins.optimize;

/**
 * Exact coordinate descent over the hard rounding of one output neuron of a fully-connected layer whose activated
 * output meets the reconstruction MSE: {@code f(w) = Σ_n (a(z_n) - t_n)^2} with {@code z_n = b + Σ_j w_j x_{n,j}} and
 * {@code a} the identity, ReLU or ReLU6 (a clamp to {@code [lo, hi]}).
 *
 * <p>With an activation the loss is not quadratic in the weights, so a flip cannot be judged from a Gram matrix as
 * {@link RoundingSearch} does. It can still be judged exactly: the search keeps every sample's pre-activation
 * {@code z} and residual {@code e = a(z) - t}; moving weight {@code j} by {@code δ} moves {@code z_n} by
 * {@code δ x_{n,j}} and changes the loss by {@code Σ_n d_n (d_n + 2 e_n)} with {@code d_n = a(z_n + δ x_{n,j}) -
 * a(z_n)}, which is {@code (a' - t)^2 - (a - t)^2} written so that it does not cancel. Every kept flip lowers the loss,
 * so the search ends at a rounding no single flip improves, never worse than its start.
 */
final class DenseRoundingSearch {
    private DenseRoundingSearch() {}

    /**
     * Refines one neuron's rounding in place.
     *
     * @param x         the layer's inputs, {@code samples x d} row-major
     * @param bias      the neuron's bias
     * @param t         the neuron's targets, one per sample
     * @param lo        the activation's lower clamp (-inf without activation)
     * @param hi        the activation's upper clamp (+inf without an upper bound)
     * @param down      each weight's value when rounded down (on the grid)
     * @param up        each weight's value when rounded up (on the grid)
     * @param roundUp   the current rounding of each weight; updated
     * @param maxSweeps most passes over the {@code d} weights; the search ends earlier after a pass without a flip
     * @return the number of flips kept
     */
    static int refine(
            float[] x,
            float bias,
            float[] t,
            float lo,
            float hi,
            float[] down,
            float[] up,
            boolean[] roundUp,
            int maxSweeps) {
        int d = down.length;
        int samples = t.length;
        if (x.length != samples * d || up.length != d || roundUp.length != d) {
            throw new IllegalArgumentException("rounding search over " + d + " weights and " + samples + " samples got "
                    + x.length + " inputs, " + up.length + " and " + roundUp.length + " roundings");
        }
        double[] z = new double[samples];
        double[] e = new double[samples];
        double loss = 0;
        for (int n = 0; n < samples; n++) {
            double acc = bias;
            for (int j = 0; j < d; j++) {
                acc += (double) (roundUp[j] ? up[j] : down[j]) * x[n * d + j];
            }
            z[n] = acc;
            e[n] = clamp(acc, lo, hi) - t[n];
            loss += e[n] * e[n];
        }
        int flips = 0;
        for (int sweep = 0; sweep < maxSweeps; sweep++) {
            int flipsThisSweep = 0;
            for (int j = 0; j < d; j++) {
                double delta = roundUp[j] ? down[j] - up[j] : up[j] - down[j];
                if (delta == 0) {
                    continue; // both roundings clamp to the same grid point
                }
                double change = 0;
                for (int n = 0; n < samples; n++) {
                    double a = clamp(z[n], lo, hi);
                    double dn = clamp(z[n] + delta * x[n * d + j], lo, hi) - a;
                    change += dn * (dn + 2 * e[n]);
                }
                // Keep a flip only when it gains clearly more than rounding in the running sums.
                if (change < -1e-9 * loss) {
                    for (int n = 0; n < samples; n++) {
                        z[n] += delta * x[n * d + j];
                        e[n] = clamp(z[n], lo, hi) - t[n];
                    }
                    roundUp[j] = !roundUp[j];
                    loss += change;
                    flipsThisSweep++;
                }
            }
            flips += flipsThisSweep;
            if (flipsThisSweep == 0) {
                break;
            }
        }
        return flips;
    }

    private static double clamp(double v, float lo, float hi) {
        return Math.min(Math.max(v, lo), hi);
    }
}
