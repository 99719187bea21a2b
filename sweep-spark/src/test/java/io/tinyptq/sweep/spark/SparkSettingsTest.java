package io.tinyptq.sweep.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyptq.api.TinyPtqException;
import java.nio.file.Path;
import java.util.Map;
import org.apache.spark.SparkConf;
import org.junit.jupiter.api.Test;

/** What the spark executor asks of Spark, checked without starting it. */
class SparkSettingsTest {

    @Test
    void withoutAMasterSparkRunsEmbeddedOnTheLoopbackAddress() {
        SparkConf conf = SparkSettings.conf(Map.of());
        assertEquals("local[*]", conf.get("spark.master"));
        assertEquals("127.0.0.1", conf.get("spark.driver.host"));
        assertTrue(
                conf.get("spark.executor.extraJavaOptions").startsWith("--add-modules=jdk.incubator.vector "),
                conf.get("spark.executor.extraJavaOptions"));
    }

    @Test
    void theUsersSettingsWinAndTheirExecutorOptionsComeAfterOurs() {
        SparkConf conf = SparkSettings.conf(
                Map.of("spark.master", "spark://node1:7077", "spark.executor.extraJavaOptions", "-Xss4m"));
        assertEquals("spark://node1:7077", conf.get("spark.master"));
        assertFalse(conf.contains("spark.driver.host"), "a remote cluster must reach the driver by its own name");
        assertTrue(
                conf.get("spark.executor.extraJavaOptions").endsWith("=ALL-UNNAMED -Xss4m"),
                conf.get("spark.executor.extraJavaOptions"));
        assertTrue(SparkSettings.onThisMachine("spark://127.0.0.1:7077"));
        assertEquals(17077, SparkSettings.standalonePort("spark://127.0.0.1:17077,127.0.0.1:17078"));
        assertEquals(7077, SparkSettings.standalonePort("spark://node1"));
    }

    @Test
    void aMasterThatDoesNotAnswerFailsAtOnceInOneLine() {
        int port = StandaloneCluster.freePort();
        TinyPtqException e = assertThrows(
                TinyPtqException.class,
                () -> SparkTrialExecutor.start(
                        Map.of("spark.master", "spark://127.0.0.1:" + port), Path.of("."), null));
        assertTrue(
                e.getMessage().startsWith("cannot reach the Spark master spark://127.0.0.1:" + port + " ("),
                e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    void aTasksCoresAndGpuBecomeTheBackendsThreadsAndDevice() {
        TaskPlacement withGpu = new TaskPlacement("3", 2, "1");
        assertEquals(2, withGpu.resources().threads());
        assertEquals("0:1", withGpu.resources().device());
        TaskPlacement cpuOnly = new TaskPlacement("3", 1, null);
        assertEquals(null, cpuOnly.resources().device());
    }
}
