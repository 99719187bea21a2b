package io.tinyptq.sweep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyptq.api.TinyPtqException;
import io.tinyptq.kernel.Kernel;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Executors by name, and the resources an executor gives a trial. */
class TrialExecutorsTest {

    @Test
    void localIsFoundByNameAndAnUnknownNameListsTheKnownOnes() {
        assertInstanceOf(LocalTrialExecutorProvider.class, TrialExecutors.find("local"));
        TinyPtqException e = assertThrows(TinyPtqException.class, () -> TrialExecutors.find("ray"));
        assertTrue(e.getMessage().startsWith("unknown executor 'ray'; known: local "), e.getMessage());
    }

    @Test
    void theLocalExecutorRefusesClusterSettings() {
        TinyPtqException e = assertThrows(
                TinyPtqException.class,
                () -> TrialExecutors.find("local")
                        .create(new TrialExecutorSettings(
                                Kernel.discover(), Path.of("."), null, 1, Map.of("spark.master", "yarn"))));
        assertTrue(e.getMessage().startsWith("--master and --conf are settings of a cluster executor"), e.getMessage());
        try (TrialExecutor local = TrialExecutors.find("local")
                .create(new TrialExecutorSettings(Kernel.discover(), Path.of("."), null, 3, Map.of()))) {
            assertEquals(3, local.capacity());
        }
    }

    @Test
    void resourcesGoToTheBackendTheRecipeRunsOnUnlessTheTrialSetsThemItself() {
        TrialResources r = new TrialResources(4, "0:1");
        assertEquals(List.of("backend.threads=4"), r.overrides("cpu", List.of("seed=1")));
        assertEquals(List.of("backend.device=0:1"), r.overrides("tornado", List.of()));
        assertEquals(List.of(), r.overrides("cpu", List.of("backend.threads=1")));
        assertEquals(List.of(), r.overrides("tornado", List.of(" backend.device=0:0")));
        assertEquals(List.of(), TrialResources.AS_GIVEN.overrides("cpu", List.of()));
    }
}
