/** Providers of the postprocess stage. See README "Module map" for the plugins this module holds and the ones planned. */
module io.tinyptq.plugins.postprocess {
    requires io.tinyptq.api;
}
