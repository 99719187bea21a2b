package io.tinyptq.kernel.pipeline;

import io.tinyptq.api.CancelledException;
import java.util.concurrent.atomic.AtomicReference;

/** Cancels a running pipeline from another thread (a Ctrl-C handler, a sweep scheduler). */
public final class CancellationToken {
    private final AtomicReference<String> reason = new AtomicReference<>();

    public void cancel(String why) {
        reason.compareAndSet(null, why);
    }

    public boolean isCancelled() {
        return reason.get() != null;
    }

    /** Throws {@link CancelledException} saying where the run stopped, if cancelled. */
    public void check(String where) {
        String r = reason.get();
        if (r != null) {
            throw new CancelledException("cancelled during " + where + ": " + r);
        }
    }
}
