package io.tinyptq.plugins.optimize;

/**
 * Exact coordinate descent over the hard rounding of one output neuron of a layer whose reconstruction loss is a
 * quadratic function of its weights (a fully-connected layer without activation whose output meets the MSE).
 *
 * <p>For the neuron's weights {@code w} and the unit's cached inputs {@code x_n} (already quantized), targets
 * {@code y_n} and bias {@code b}, the loss is {@code f(w) = Σ_n (x_n·w + b - y_n)^2}. With the Gram matrix
 * {@code H = Σ_n x_n x_nᵀ} and half the gradient {@code g = Σ_n x_n (x_n·w + b - y_n) = H w + Σ_n x_n (b - y_n)},
 * moving weight {@code j} by {@code δ} changes the loss by exactly {@code Δf = 2 δ g_j + δ² H_jj} and the gradient by
 * {@code δ H[:, j]}. A weight's two roundings (down: {@code floor(W/s)}, up: {@code floor(W/s) + 1}, each clamped to
 * the grid) differ by at most one step, so a flip costs O(1) to judge and O(d) to apply.
 *
 * <p>AdaRound (Nagel et al. 2020) optimizes a soft relaxation of this choice; where its regularizer has not pushed
 * every {@code h(V)} to 0 or 1, hardening loses part of what the relaxation reached. The search starts from the
 * hardened rounding and keeps each flip that lowers {@code f}; every kept flip lowers it strictly, so it stops at a
 * rounding that no single flip improves, never worse than its start.
 */
final class RoundingSearch {
    private RoundingSearch() {}

    /**
     * Refines one neuron's rounding in place.
     *
     * @param h         the Gram matrix {@code H}, {@code d x d}, row-major (symmetric)
     * @param d         the neuron's fan-in
     * @param g         half the gradient at the current rounding, {@code d} values; updated with every flip
     * @param down      each weight's value when rounded down (on the grid)
     * @param up        each weight's value when rounded up (on the grid)
     * @param roundUp   the current rounding of each weight; updated
     * @param maxSweeps most passes over the {@code d} weights; the search ends earlier after a pass without a flip
     * @return the number of flips kept (a weight may flip more than once)
     */
    static int refine(double[] h, int d, double[] g, float[] down, float[] up, boolean[] roundUp, int maxSweeps) {
        if (h.length != d * d || g.length != d || down.length != d || up.length != d || roundUp.length != d) {
            throw new IllegalArgumentException("rounding search over " + d + " weights needs a " + d + "x" + d
                    + " Gram matrix and " + d + " gradients and roundings, got " + h.length + ", " + g.length + ", "
                    + down.length + ", " + up.length + ", "
                    + roundUp.length);
        }
        int flips = 0;
        for (int sweep = 0; sweep < maxSweeps; sweep++) {
            int flipsThisSweep = 0;
            for (int j = 0; j < d; j++) {
                double delta = roundUp[j] ? down[j] - up[j] : up[j] - down[j];
                if (delta == 0) {
                    continue; // both roundings clamp to the same grid point
                }
                double hjj = h[j * d + j];
                double change = 2 * delta * g[j] + delta * delta * hjj;
                // Keep a flip only when it gains more than the rounding noise of the running gradient.
                if (change < -1e-12 * (Math.abs(2 * delta * g[j]) + delta * delta * hjj)) {
                    roundUp[j] = !roundUp[j];
                    for (int i = 0; i < d; i++) {
                        g[i] += delta * h[i * d + j];
                    }
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
}
