/** Step 2 providers: quantizer initialization by MinMax and by MSE range search (Zhuo et al. 2022, Sec. 3.2). */
module io.tinyptq.plugins.init {
    requires io.tinyptq.api;

    exports io.tinyptq.plugins.init;

    provides io.tinyptq.api.spi.QuantizerInitializer with
            io.tinyptq.plugins.init.MinMaxInitializer,
            io.tinyptq.plugins.init.MseInitializer;
}
