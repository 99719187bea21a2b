package io.tinyptq.plugins.archfixture;

import com.fasterxml.jackson.databind.ObjectMapper;

/** A deliberate violation (a plugin using Jackson and the std streams), to prove the rules catch it. Test code only. */
public final class PluginUsingJackson {
    private PluginUsingJackson() {}

    public static void leak() {
        System.out.println(new ObjectMapper());
    }
}
