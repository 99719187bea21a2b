package io.tinyptq.kernel.store;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tinyptq.api.TinyPtqException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A results folder ({@code tinyptq run --out DIR}): {@link #FILES} written one by one, each replaced atomically
 * ({@link AtomicFiles}), then {@link #RECORD}, which lists the SHA-256 of every one of them. A set of renames is not
 * atomic, so the record is what makes the folder whole: until the new record replaces the old one, the old record's
 * digests no longer match the files already replaced, and every reader ({@link #check}, and
 * {@link QuantizedModelStore#load} for the {@code model/} inside) refuses the folder as half-written instead of
 * loading old quantizers with new weights. A kill at any moment thus leaves the old complete results, the new complete
 * results, or a folder that says it is neither.
 */
public final class ResultsFolder {
    /** Written last: the run's report and the digests of the other files. */
    public static final String RECORD = "report.json";
    /** The record's member listing each file (relative path, forward slashes) with its SHA-256 (hex). */
    public static final String DIGESTS = "files";
    /** The files the record covers, in the order a run writes them. */
    public static final List<String> FILES =
            List.of("report.txt", "encodings.json", "model/constants.bin", "model/model.json", "provenance.yaml");
    /** The stored model's folder inside a results folder. */
    public static final String MODEL = "model";

    private ResultsFolder() {}

    /** The SHA-256 of each of {@link #FILES} in {@code dir}, for the record. */
    public static Map<String, String> digests(Path dir) throws IOException {
        Map<String, String> out = new LinkedHashMap<>();
        for (String f : FILES) {
            out.put(f, QuantizedModelStore.sha256(Files.readAllBytes(dir.resolve(f))));
        }
        return out;
    }

    /** Whether {@code dir} holds a record or a file only results folders hold. */
    public static boolean isResultsFolder(Path dir) {
        return Files.isDirectory(dir)
                && (Files.exists(dir.resolve(RECORD))
                        || Files.exists(dir.resolve("encodings.json"))
                        || Files.exists(dir.resolve("provenance.yaml")));
    }

    /**
     * Checks that {@code dir} holds one run's complete results: its record, and every file the record lists with the
     * SHA-256 recorded. A record without digests (written before they were kept) is taken as it is.
     *
     * @throws TinyPtqException naming the folder and the file that shows the write was interrupted
     */
    public static void check(Path dir) {
        Path record = dir.resolve(RECORD);
        String rerun = "the results of a write that was interrupted (killed?) half way; run again to write them whole";
        if (!Files.isRegularFile(record)) {
            throw new TinyPtqException(
                    dir + ": results folder without " + RECORD + ", which a run writes last: " + rerun);
        }
        JsonNode files;
        try {
            files = new ObjectMapper().readTree(record.toFile()).path(DIGESTS);
        } catch (IOException e) {
            throw new TinyPtqException(
                    record + ": not a readable run record ("
                            + e.getMessage().lines().findFirst().orElse("") + "): " + rerun,
                    e);
        }
        if (files.isMissingNode()) {
            return;
        }
        for (String f : FILES) {
            Path file = dir.resolve(f);
            String digest;
            try {
                digest = Files.isRegularFile(file) ? QuantizedModelStore.sha256(Files.readAllBytes(file)) : null;
            } catch (IOException e) {
                throw new TinyPtqException(file + ": cannot read: " + e.getMessage(), e);
            }
            if (digest == null || !digest.equals(files.path(f).asText())) {
                throw new TinyPtqException(dir + ": " + f + (digest == null ? " is missing" : " is not the file")
                        + " that " + RECORD + " records (SHA-256): the folder mixes two runs' files, " + rerun);
            }
        }
    }
}
