package io.tinyptq.realdata;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tinyptq.kernel.stats.ModelStats;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Zhuo et al. 2022, Table 1: MACs (with its convention, see {@link ModelStats}) and parameters of each model. */
class Table1RealDataTest {

    @ParameterizedTest(name = "{0}: {2} MACs, {3} parameters")
    @CsvSource({
        "pretrainedResnet.tflite,     12501632, 12591808, 77706",
        "kws_ref_model_float32.tflite, 2656768,  2736832, 22604",
        "vww_96_float.tflite,          7489664,  7723776, 210850",
    })
    void macsAndParametersAsTable1(String file, long macs, long macsTable1, long params) {
        ModelStats s = ModelStats.of(Shared.model(file));
        assertEquals(macsTable1, s.macsTable1(), "MACs, Table 1 convention");
        assertEquals(params, s.params(), "parameters");
        assertEquals(macs, s.macs(), "multiply-accumulates alone");
    }
}
