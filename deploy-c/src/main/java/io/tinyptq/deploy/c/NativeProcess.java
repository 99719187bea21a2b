package io.tinyptq.deploy.c;

import io.tinyptq.api.TinyPtqException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs a native command with bytes on its stdin, collecting stdout and stderr on their own threads. */
final class NativeProcess {
    /** A finished command. */
    record Result(int exitCode, byte[] stdout, String stderr) {
        /** The last {@code n} lines of stderr, for error messages. */
        String tail(int n) {
            String[] lines = stderr.strip().split("\n");
            return String.join("\n", java.util.Arrays.copyOfRange(lines, Math.max(0, lines.length - n), lines.length));
        }
    }

    private NativeProcess() {
    }

    static Result run(List<String> command, Path dir, byte[] stdin, long timeoutSeconds) {
        Process p;
        try {
            p = new ProcessBuilder(command).directory(dir == null ? null : dir.toFile()).start();
        } catch (IOException e) {
            throw new TinyPtqException("cannot start " + command.get(0) + ": " + e.getMessage());
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Thread o = Thread.ofPlatform().daemon().start(() -> copy(p.getInputStream(), out));
        Thread e = Thread.ofPlatform().daemon().start(() -> copy(p.getErrorStream(), err));
        Thread i = Thread.ofPlatform().daemon().start(() -> {
            try (OutputStream s = p.getOutputStream()) {
                if (stdin != null) {
                    s.write(stdin);
                }
            } catch (IOException ignored) {
                // the program exited before reading all of its input; its exit code and stderr say why
            }
        });
        try {
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new TinyPtqException(String.join(" ", command) + " did not finish within " + timeoutSeconds
                        + " s");
            }
            o.join();
            e.join();
            i.join();
        } catch (InterruptedException ex) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new TinyPtqException("interrupted while running " + command.get(0));
        }
        return new Result(p.exitValue(), out.toByteArray(), err.toString(java.nio.charset.StandardCharsets.UTF_8));
    }

    private static void copy(InputStream in, ByteArrayOutputStream to) {
        try (in) {
            in.transferTo(to);
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
    }

    /** Whether {@code tool} is an executable on the PATH. */
    static boolean onPath(String tool) {
        String path = System.getenv("PATH");
        if (path == null) {
            return false;
        }
        for (String d : path.split(java.io.File.pathSeparator)) {
            if (java.nio.file.Files.isExecutable(Path.of(d, tool))) {
                return true;
            }
        }
        return false;
    }
}
