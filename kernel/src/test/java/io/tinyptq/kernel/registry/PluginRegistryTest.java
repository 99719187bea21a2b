package io.tinyptq.kernel.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyptq.api.spi.PluginKind;
import io.tinyptq.api.spi.Preprocessor;
import io.tinyptq.kernel.fakes.Fakes;
import java.util.List;
import org.junit.jupiter.api.Test;

class PluginRegistryTest {

    @Test
    void findsProvidersByKindAndName() {
        PluginRegistry r = Fakes.registry();
        assertEquals(
                "spy-pre",
                r.find(PluginKind.PREPROCESS, "spy-pre", Preprocessor.class).name());
        assertEquals(List.of("absmax"), r.names(PluginKind.INIT));
        assertEquals(List.of("reference"), r.names(PluginKind.BACKEND));
    }

    @Test
    void unknownNameListsTheKnownNamesOfThatStage() {
        var e = assertThrows(
                PluginNotFoundException.class, () -> Fakes.registry().find(PluginKind.OPTIMIZE, "adaround"));
        assertEquals(
                "unknown optimize plugin 'adaround'; known optimize plugins: [spy-opt]. A plugin outside"
                        + " tinyptq is found when its jar is on the class path or module path",
                e.getMessage());
    }

    @Test
    void closeMisspellingGetsASuggestion() {
        var e = assertThrows(
                PluginNotFoundException.class, () -> Fakes.registry().find(PluginKind.OPTIMIZE, "spy-op"));
        assertTrue(e.getMessage().endsWith("(did you mean 'spy-opt'?)"), e.getMessage());
    }

    @Test
    void twoProvidersWithOneNameFailNamingBothClasses() {
        var e = assertThrows(
                PluginConflictException.class,
                () -> PluginRegistry.of(List.of(new Fakes.SpyPreprocessor(), new Fakes.AnotherSpyPre())));
        assertEquals(
                "two preprocess plugins are named 'spy-pre': io.tinyptq.kernel.fakes.Fakes$SpyPreprocessor and"
                        + " io.tinyptq.kernel.fakes.Fakes$AnotherSpyPre; remove one of their jars from the path",
                e.getMessage());
    }

    @Test
    void namesMustFollowTheRule() {
        var bad = new Fakes.SpyPreprocessor() {
            @Override
            public String name() {
                return "Bad Name";
            }
        };
        var e = assertThrows(PluginConflictException.class, () -> PluginRegistry.of(List.of(bad)));
        assertTrue(e.getMessage().contains("'Bad Name', which does not match ^[a-z][a-z0-9_-]*$"), e.getMessage());
    }

    @Test
    void summaryListsEveryKind() {
        assertEquals(
                "preprocess=[spy-pre], init=[absmax], optimize=[spy-opt], postprocess=[spy-post],"
                        + " backend=[reference], integer=[], format=[], codegen=[], dataset=[]",
                Fakes.registry().summary());
    }

    @Test
    void suggestionUsesEditDistance() {
        assertEquals(1, Suggest.distance("iters", "itres") - 1);
        assertEquals("iterations", Suggest.closest("iteratons", List.of("iterations", "lr")));
        assertEquals(null, Suggest.closest("zzz", List.of("iterations", "lr")));
    }
}
