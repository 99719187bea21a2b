/** Step 4 providers: LP model post-processing ({@code bias-tuning}). */
module io.tinyptq.plugins.postprocess {
    requires io.tinyptq.api;

    exports io.tinyptq.plugins.postprocess;

    provides io.tinyptq.api.spi.Postprocessor with
            io.tinyptq.plugins.postprocess.BiasTuning;
}
