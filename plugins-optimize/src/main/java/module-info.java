/**
 * Step 3 providers: layer-wise and block-wise reconstruction of one variable of Eq. 1 (Zhuo et al. 2022,
 * Sec. 3.2 step 3): {@code qparam} (LSQ), {@code weights} (AdaQuant), {@code round} (AdaRound), {@code bits} (BitSplit).
 */
module io.tinyptq.plugins.optimize {
    requires io.tinyptq.api;

    exports io.tinyptq.plugins.optimize;

    provides io.tinyptq.api.spi.QuantOptimizer with
            io.tinyptq.plugins.optimize.QParamOptimizer,
            io.tinyptq.plugins.optimize.WeightOptimizer,
            io.tinyptq.plugins.optimize.RoundingOptimizer,
            io.tinyptq.plugins.optimize.BitSplitOptimizer;
}
