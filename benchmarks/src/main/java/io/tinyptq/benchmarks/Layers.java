package io.tinyptq.benchmarks;

import io.tinyptq.backend.cpu.kernels.ConvShape;

/**
 * The benchmarked layers (batch 32): ResNet-8's 3x3 convolutions (CIFAR-10, 32x32 input), DS-CNN's depthwise and
 * pointwise convolutions (keyword spotting, 25x5 feature map with 64 channels), and the first layers of
 * MobileNetV1-0.25 (visual wake words, 96x96 input).
 */
public enum Layers {
    RESNET8_CONV_16_16_32x32(false, ConvShape.same(32, 32, 32, 16, 16, 3, 3, 1, 1)),
    RESNET8_CONV_16_32_S2_32x32(false, ConvShape.same(32, 32, 32, 16, 32, 3, 3, 2, 2)),
    RESNET8_CONV_32_32_16x16(false, ConvShape.same(32, 16, 16, 32, 32, 3, 3, 1, 1)),
    RESNET8_CONV_32_64_S2_16x16(false, ConvShape.same(32, 16, 16, 32, 64, 3, 3, 2, 2)),
    RESNET8_CONV_64_64_8x8(false, ConvShape.same(32, 8, 8, 64, 64, 3, 3, 1, 1)),
    DSCNN_DEPTHWISE_64_25x5(true, ConvShape.same(32, 25, 5, 64, 64, 3, 3, 1, 1)),
    DSCNN_POINTWISE_64_64_25x5(false, ConvShape.same(32, 25, 5, 64, 64, 1, 1, 1, 1)),
    MOBILENET_CONV_3_8_S2_96x96(false, ConvShape.same(32, 96, 96, 3, 8, 3, 3, 2, 2)),
    MOBILENET_DEPTHWISE_8_48x48(true, ConvShape.same(32, 48, 48, 8, 8, 3, 3, 1, 1)),
    MOBILENET_POINTWISE_8_16_48x48(false, ConvShape.same(32, 48, 48, 8, 16, 1, 1, 1, 1));

    final boolean depthwise;
    final ConvShape shape;

    Layers(boolean depthwise, ConvShape shape) {
        this.depthwise = depthwise;
        this.shape = shape;
    }

    /** Multiply-accumulates of one forward pass over the batch. */
    public long macs() {
        long perOutput = depthwise ? (long) shape.kH() * shape.kW() : shape.patchSize();
        return (long) shape.outputSize() * perOutput;
    }

    public int weightSize() {
        return depthwise ? shape.kH() * shape.kW() * shape.outC() : shape.outC() * shape.patchSize();
    }
}
