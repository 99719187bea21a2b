module com.example.ptq {
    requires io.tinyptq.api;
    exports com.example.ptq;
    provides io.tinyptq.api.spi.Preprocessor with com.example.ptq.IdentityPreprocessor;
    provides io.tinyptq.api.spi.QuantOptimizer with com.example.ptq.SignRoundingOptimizer;
}
