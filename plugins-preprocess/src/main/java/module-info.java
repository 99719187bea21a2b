/** Providers of the preprocess stage. See README "Module map" for the plugins this module holds and the ones planned. */
module io.tinyptq.plugins.preprocess {
    requires io.tinyptq.api;
}
