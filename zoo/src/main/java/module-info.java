/**
 * Architectures defined in code ({@link io.tinyptq.zoo.Zoo}) and the {@code synthetic} dataset plugin: what
 * tinyptq needs to train and quantize a model on a fresh clone with no external files.
 */
module io.tinyptq.zoo {
    requires io.tinyptq.api;

    exports io.tinyptq.zoo;

    provides io.tinyptq.api.spi.DatasetProvider with
            io.tinyptq.zoo.SyntheticShapes;
}
