package io.tinyptq.api.spi;

/** Receives progress of long work; implementations must be cheap and thread-safe. */
public interface ProgressListener {
    ProgressListener NONE = new ProgressListener() {
        @Override
        public void progress(String task, long done, long total) {}

        @Override
        public void message(String text) {}
    };

    /** {@code done} of {@code total} steps of {@code task} are finished ({@code total <= 0}: unknown). */
    void progress(String task, long done, long total);

    /** A one-line note worth showing the user (a unit finished, a fallback taken). */
    void message(String text);
}
