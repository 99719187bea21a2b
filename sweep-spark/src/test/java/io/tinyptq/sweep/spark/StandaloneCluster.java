package io.tinyptq.sweep.spark;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A Spark standalone cluster on this machine, started by {@code bin/spark-cluster} from the project's own jars: a
 * master and workers as processes of their own, whose executors are JVMs of their own; {@link #close} ends them.
 */
final class StandaloneCluster implements AutoCloseable {
    static final Path ROOT =
            Path.of(System.getProperty("tinyptq.root", "..")).toAbsolutePath().normalize();
    private static final Path SCRIPT = ROOT.resolve("bin/spark-cluster");

    final Path dir;
    final String master;

    /** Starts a master on a free port and the workers {@code options} ask for ({@code --workers 2 --cores 1}). */
    StandaloneCluster(Path dir, String... options) {
        this.dir = dir;
        List<String> command = new ArrayList<>(
                List.of(SCRIPT.toString(), "start", dir.toString(), "--port", String.valueOf(freePort())));
        command.addAll(List.of(options));
        try {
            script(command, 150);
            master = Files.readString(dir.resolve("master-url")).strip();
        } catch (RuntimeException | IOException e) {
            close();
            throw e instanceof IOException io ? new UncheckedIOException(io) : (RuntimeException) e;
        }
    }

    /** The process id of worker {@code i} (from 1). */
    long workerPid(int i) {
        try {
            return Long.parseLong(
                    Files.readString(dir.resolve("worker-" + i + ".pid")).strip());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * kill -9 of a worker and of the executor JVMs it started, as when its machine dies: no shutdown hook runs, and
     * the task in flight there is lost at once (an executor alone would notice its worker's death only later).
     */
    void killWorker(int i) {
        ProcessHandle.of(workerPid(i)).ifPresent(worker -> {
            worker.descendants().forEach(ProcessHandle::destroyForcibly);
            worker.destroyForcibly();
        });
    }

    /** The workers (from 1) that started the executor {@code executorId}: its JVM is among their descendants. */
    int workerOf(String executorId) {
        for (int i = 1; Files.exists(dir.resolve("worker-" + i + ".pid")); i++) {
            boolean started = ProcessHandle.of(workerPid(i)).stream()
                    .flatMap(ProcessHandle::descendants)
                    .map(h -> List.of(h.info().arguments().orElse(new String[0])))
                    .anyMatch(args -> args.indexOf("--executor-id") >= 0
                            && executorId.equals(args.get(args.indexOf("--executor-id") + 1)));
            if (started) {
                return i;
            }
        }
        throw new IllegalStateException("no worker of " + dir + " started executor " + executorId);
    }

    @Override
    public void close() {
        script(List.of(SCRIPT.toString(), "stop", dir.toString()), 60);
    }

    private void script(List<String> command, int seconds) {
        try {
            Process p = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(dir.resolveSibling(dir.getFileName() + "-script.log")
                            .toFile())
                    .start();
            if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException(command + " took more than " + seconds + " s");
            }
            if (p.exitValue() != 0) {
                throw new IllegalStateException(command + " failed: "
                        + Files.readString(dir.resolveSibling(dir.getFileName() + "-script.log")));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
