/**
 * Step 1 providers: function-preserving FP model preprocessing. {@code cle}: cross-layer range equalization
 * (Nagel et al. 2019); {@code ocs}: outlier channel splitting (Zhao et al. 2019).
 */
module io.tinyptq.plugins.preprocess {
    requires io.tinyptq.api;

    exports io.tinyptq.plugins.preprocess;

    provides io.tinyptq.api.spi.Preprocessor with
            io.tinyptq.plugins.preprocess.CrossLayerEqualization,
            io.tinyptq.plugins.preprocess.OutlierChannelSplitting;
}
