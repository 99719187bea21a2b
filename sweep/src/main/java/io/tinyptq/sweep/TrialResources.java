package io.tinyptq.sweep;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * What the machine gives one trial: backend threads when its recipe runs on the {@code cpu} backend, a device when
 * it runs on the {@code tornado} backend. These are execution settings, not part of the trial's key, and a trial whose
 * own overrides set the option keeps its setting.
 *
 * @param threads cpu backend threads ({@code backend.threads}), or 0 to leave the recipe's
 * @param device  tornado device as {@code backend:device} ({@code backend.device}), or null to leave the recipe's
 */
public record TrialResources(int threads, String device) implements Serializable {
    /** Nothing to add: every trial runs as its recipe says. */
    public static final TrialResources AS_GIVEN = new TrialResources(0, null);

    public TrialResources {
        if (threads < 0) {
            throw new IllegalArgumentException("threads must be 0 (the recipe's) or more, found " + threads);
        }
    }

    /** The recipe overrides that give these resources to a trial whose recipe runs on {@code backend}. */
    public List<String> overrides(String backend, List<String> trialOverrides) {
        List<String> o = new ArrayList<>();
        if (threads > 0 && "cpu".equals(backend) && !sets(trialOverrides, "backend.threads")) {
            o.add("backend.threads=" + threads);
        }
        if (device != null && "tornado".equals(backend) && !sets(trialOverrides, "backend.device")) {
            o.add("backend.device=" + device);
        }
        return o;
    }

    private static boolean sets(List<String> overrides, String key) {
        return overrides.stream().anyMatch(o -> o.strip().startsWith(key));
    }
}
