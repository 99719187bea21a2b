package io.tinyptq.api.spi;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class LearningRatesTest {

    @Test
    void cosineFallsFromTheRateToZeroThroughHalfAtMidway() {
        assertEquals(4e-5, LearningRates.cosine(4e-5, 0, 1000), 1e-15);
        assertEquals(2e-5, LearningRates.cosine(4e-5, 500, 1000), 1e-15);
        // cos(pi/4) = sqrt(2)/2 at a quarter of the way
        assertEquals(4e-5 * 0.5 * (1 + Math.sqrt(0.5)), LearningRates.cosine(4e-5, 250, 1000), 1e-15);
        assertEquals(0, LearningRates.cosine(4e-5, 1000, 1000), 1e-15);
    }
}
