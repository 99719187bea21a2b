/** Providers of the optimize stage. See README "Module map" for the plugins this module holds and the ones planned. */
module io.tinyptq.plugins.optimize {
    requires io.tinyptq.api;
}
