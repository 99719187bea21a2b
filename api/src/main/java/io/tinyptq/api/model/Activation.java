package io.tinyptq.api.model;

/**
 * An element-wise activation, standalone ({@link Op.Act}) or fused into a layer as TFLite does.
 * RELU6 matters to cross-layer equalization: {@code min(max(x,0),6)} is not positively homogeneous, so
 * rescaling a channel across it changes the function.
 */
public enum Activation {
    NONE,
    RELU,
    RELU6;

    public float apply(float x) {
        return switch (this) {
            case NONE -> x;
            case RELU -> Math.max(x, 0f);
            case RELU6 -> Math.min(Math.max(x, 0f), 6f);
        };
    }
}
