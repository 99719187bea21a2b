package io.tinyptq.deploy.c;

import io.tinyptq.api.TinyPtqException;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Runs the native tools a generated project needs (make, compilers, QEMU, the built program). */
final class NativeProcess {
    private NativeProcess() {}

    /** A finished command. */
    record Result(int exitCode, byte[] stdout, byte[] stderr) {
        /** The last {@code n} lines of stderr, for error messages. */
        String tail(int n) {
            List<String> lines =
                    new String(stderr, StandardCharsets.UTF_8).strip().lines().toList();
            return String.join("\n", lines.subList(Math.max(0, lines.size() - n), lines.size()));
        }
    }

    /**
     * Runs {@code command} in {@code dir}: stdin written and stdout and stderr read on their own threads, so that
     * no pipe fills up whatever the sizes; the process is killed past {@code timeout}.
     */
    static Result run(List<String> command, Path dir, byte[] stdin, Duration timeout) {
        Process process;
        try {
            process = new ProcessBuilder(command)
                    .directory(dir == null ? null : dir.toFile())
                    .start();
        } catch (IOException e) {
            throw new TinyPtqException("cannot start " + command.getFirst() + ": " + e.getMessage(), e);
        }
        CompletableFuture<byte[]> out = readAll(process.getInputStream(), "stdout");
        CompletableFuture<byte[]> err = readAll(process.getErrorStream(), "stderr");
        Thread writer = Thread.ofVirtual().name("tinyptq-stdin").start(() -> {
            try (OutputStream in = process.getOutputStream()) {
                in.write(stdin);
            } catch (IOException e) {
                // The process ended before reading all its input; its exit status and stderr tell why.
            }
        });
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
                process.waitFor();
                String partial;
                try {
                    partial = new String(err.get(5, TimeUnit.SECONDS), StandardCharsets.UTF_8);
                } catch (TimeoutException e) {
                    partial = "";
                }
                throw new TinyPtqException(String.join(" ", command) + " ran past its timeout of " + timeout
                        + (partial.isBlank() ? "" : ":\n" + partial.strip()));
            }
            writer.join();
            return new Result(process.exitValue(), out.get(), err.get());
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new TinyPtqException("interrupted while running " + command.getFirst(), e);
        } catch (ExecutionException e) {
            throw new TinyPtqException(
                    "cannot read the output of " + command.getFirst() + ": "
                            + e.getCause().getMessage(),
                    e.getCause());
        }
    }

    private static CompletableFuture<byte[]> readAll(InputStream stream, String name) {
        CompletableFuture<byte[]> result = new CompletableFuture<>();
        Thread.ofVirtual().name("tinyptq-" + name).start(() -> {
            try (InputStream in = stream) {
                ByteArrayOutputStream bytes = new ByteArrayOutputStream();
                in.transferTo(bytes);
                result.complete(bytes.toByteArray());
            } catch (IOException e) {
                result.completeExceptionally(new UncheckedIOException(e));
            }
        });
        return result;
    }

    /** Whether an executable named {@code tool} is in one of PATH's folders. */
    static boolean onPath(String tool) {
        String path = System.getenv("PATH");
        if (path == null) {
            return false;
        }
        for (String dir : path.split(File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }
}
