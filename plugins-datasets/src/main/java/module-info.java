/**
 * Dataset providers, one per storage layout, opened from a small descriptor file (see
 * {@code io.tinyptq.plugins.datasets.LayoutProvider} for its keys): {@code records} (fixed-size
 * {@code [label u8][sample]} records), {@code features} (samples plus a label file) and {@code uci-har} (the
 * original UCI-HAR folder layout).
 */
module io.tinyptq.plugins.datasets {
    requires io.tinyptq.api;

    exports io.tinyptq.plugins.datasets;

    provides io.tinyptq.api.spi.DatasetProvider with
            io.tinyptq.plugins.datasets.RecordsProvider,
            io.tinyptq.plugins.datasets.FeaturesProvider,
            io.tinyptq.plugins.datasets.UciHarProvider;
}
