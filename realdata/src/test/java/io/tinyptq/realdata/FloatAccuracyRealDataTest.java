package io.tinyptq.realdata;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tinyptq.kernel.eval.Evaluation;
import org.junit.jupiter.api.Test;

/**
 * Float accuracy of the three MLPerf Tiny reference models on the full shared test sets. The targets are what an
 * independent implementation gets on the same files; a gap beyond 0.05 points means a semantic difference
 * (padding, layouts, preprocessing, dequantization) to find, not noise.
 */
class FloatAccuracyRealDataTest {
    static final double TOLERANCE = 0.05;

    @Test
    void resnet8OnAllCifar10TestImages() {
        Evaluation e = Shared.evaluate("pretrainedResnet.tflite", "cifar10-test");
        assertEquals(10_000, e.samples());
        assertEquals(87.19, e.accuracy(), TOLERANCE, "ResNet-8 on CIFAR-10");
    }

    @Test
    void dsCnnOnAllKeywordSpottingTestClips() {
        // The float32 file stores its convolution weights as int8 with a scale: dequantized on load.
        Evaluation e = Shared.evaluate("kws_ref_model_float32.tflite", "kws-test");
        assertEquals(4_890, e.samples());
        assertEquals(91.86, e.accuracy(), TOLERANCE, "DS-CNN on Speech Commands v0.02 test");
    }

    @Test
    void mobileNetV1OnTheVww01Samples() {
        Evaluation e = Shared.evaluate("vww_96_float.tflite", "vww01");
        assertEquals(1_000, e.samples());
        assertEquals(85.30, e.accuracy(), TOLERANCE, "MobileNetV1-0.25 on vww01");
    }
}
