package io.tinyptq.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tinyptq.kernel.Kernel;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The committed {@code recipes/recipe.schema.json} is what the bundled plugins generate today. */
class PublishedSchemaTest {

    @Test
    void publishedSchemaIsUpToDate() throws Exception {
        Path published = Path.of("..", "recipes", "recipe.schema.json");
        String generated = Kernel.discover().schema().generate() + "\n";
        assertEquals(
                generated,
                Files.readString(published),
                "recipes/recipe.schema.json is stale; regenerate it with"
                        + " 'bin/tinyptq recipe schema -o recipes/recipe.schema.json'");
    }
}
