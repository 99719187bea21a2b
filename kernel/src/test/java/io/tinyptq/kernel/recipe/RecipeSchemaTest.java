package io.tinyptq.kernel.recipe;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tinyptq.kernel.fakes.Fakes;
import org.junit.jupiter.api.Test;

class RecipeSchemaTest {

    @Test
    void schemaConstrainsEachPluginsOptionsFromItsRecord() throws Exception {
        JsonNode root = new ObjectMapper().readTree(new RecipeSchema(Fakes.registry()).generate());
        assertEquals("object", root.at("/type").asText());
        assertEquals(false, root.at("/additionalProperties").asBoolean());
        JsonNode stepMap = root.at("/properties/optimize/items/oneOf/1");
        assertEquals("spy-opt", stepMap.at("/properties/plugin/enum/0").asText());
        JsonNode rule = stepMap.at("/allOf/0");
        assertEquals("spy-opt", rule.at("/if/properties/plugin/const").asText());
        JsonNode options = rule.at("/then/properties/options");
        assertEquals(false, options.at("/additionalProperties").asBoolean());
        assertEquals("integer", options.at("/properties/iterations/type").asText());
        assertEquals(1, options.at("/properties/iterations/minimum").asInt());
        assertEquals(100000, options.at("/properties/iterations/maximum").asInt());
        assertEquals(100, options.at("/properties/iterations/default").asInt());
        assertEquals(
                "iterations per unit",
                options.at("/properties/iterations/description").asText());
        assertEquals("careful", options.at("/properties/mode/enum/1").asText());
        assertEquals("[a-z]+", options.at("/properties/label/pattern").asText());
        assertEquals("string", options.at("/properties/skip/items/type").asText());
        JsonNode q = root.at("/properties/quantization");
        assertEquals(2, q.at("/properties/weight_bits/minimum").asInt());
        assertEquals(8, q.at("/properties/weight_bits/maximum").asInt());
        assertEquals(
                "per_channel", q.at("/properties/weight_granularity/default").asText());
        assertEquals("layer", q.at("/properties/overrides/items/required/0").asText());
    }
}
