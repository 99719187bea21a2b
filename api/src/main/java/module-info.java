/**
 * The tinyptq API: the model IR ({@link io.tinyptq.api.model}), the quantization vocabulary of the
 * paper's Eq. 1 and 2 ({@link io.tinyptq.api.quant}), typed plugin options ({@link io.tinyptq.api.options})
 * and one service-provider interface per pipeline stage ({@link io.tinyptq.api.spi}).
 *
 * <p>This module depends on nothing but {@code java.base}; plugins and backends depend on it alone.
 */
module io.tinyptq.api {
    exports io.tinyptq.api;
    exports io.tinyptq.api.model;
    exports io.tinyptq.api.integer;
    exports io.tinyptq.api.quant;
    exports io.tinyptq.api.options;
    exports io.tinyptq.api.spi;
}
