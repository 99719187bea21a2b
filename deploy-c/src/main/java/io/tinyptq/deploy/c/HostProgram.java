package io.tinyptq.deploy.c;

import io.tinyptq.api.TinyPtqException;
import io.tinyptq.api.spi.CodeGenerator;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** A project built for the host with {@code make host}: runs as a native process. */
final class HostProgram implements CodeGenerator.Program {
    private final Path executable;

    private HostProgram(Path executable) {
        this.executable = executable;
    }

    /**
     * Runs {@code make host} in {@code dir}, with {@code makeArguments} (e.g. {@code HOST_CFLAGS=...}); a missing
     * compiler or a compile error fails naming them.
     */
    static HostProgram build(Path dir, List<String> makeArguments) {
        if (!NativeProcess.onPath("make") || !NativeProcess.onPath("cc") && !NativeProcess.onPath("gcc")) {
            throw new TinyPtqException("building the C project for the host needs make and a C compiler (cc or gcc)"
                    + " on the PATH; on Debian: apt-get install make gcc");
        }
        List<String> cmd = new ArrayList<>(List.of("make", "-s", "-B", "-C", dir.toString(), "host"));
        cmd.addAll(makeArguments);
        NativeProcess.Result r = NativeProcess.run(cmd, null, new byte[0], Duration.ofMinutes(10));
        if (r.exitCode() != 0) {
            throw new TinyPtqException("make host failed in " + dir + ":\n" + r.tail(20));
        }
        return new HostProgram(dir.resolve("build/host/model"));
    }

    @Override
    public CodeGenerator.Run run(byte[] inputs, int samples) {
        NativeProcess.Result r = NativeProcess.run(List.of(executable.toString()), null, inputs, Duration.ofHours(1));
        if (r.exitCode() != 0) {
            throw new TinyPtqException(executable + " exited with " + r.exitCode() + ":\n" + r.tail(20));
        }
        return new CodeGenerator.Run(r.stdout(), new long[0]);
    }

    @Override
    public Map<String, Long> sizes() {
        return Map.of();
    }
}
