package io.tinyptq.kernel.pipeline;

import io.tinyptq.api.TinyPtqException;
import io.tinyptq.api.model.Model;
import io.tinyptq.api.quant.QuantizedModel;
import io.tinyptq.api.spi.BackendInfo;
import io.tinyptq.api.spi.ModelExecutor;
import io.tinyptq.api.spi.ProgressListener;
import io.tinyptq.api.spi.StageContext.BoundBackend;
import io.tinyptq.api.spi.TrainingProblem;
import io.tinyptq.api.spi.TrainingSession;
import io.tinyptq.api.spi.TrainingSettings;
import java.util.HashSet;
import java.util.Set;

/**
 * An accelerator backend with the cpu backend behind it. The accelerator is probed once, up front: if it cannot
 * start, the whole run goes on on the cpu, and one line says why and how to fix it. Afterwards each model execution
 * or training session it declines ({@link UnsupportedOperationException}: an op its kernels lack, a variable it does
 * not optimize) runs on the cpu, and a line says so once per reason. Nothing falls back silently.
 */
final class FallbackBackend implements BoundBackend {
    private final String name;
    private final BoundBackend primary;
    private final BoundBackend cpu;
    private final ProgressListener progress;
    private final Set<String> said = new HashSet<>();

    private FallbackBackend(String name, BoundBackend primary, BoundBackend cpu, ProgressListener progress) {
        this.name = name;
        this.primary = primary;
        this.cpu = cpu;
        this.progress = progress;
    }

    /**
     * {@code primary} if it starts, behind which {@code cpu} runs what it declines; else {@code cpu}, with a line
     * saying why.
     */
    static BoundBackend of(String name, BoundBackend primary, BoundBackend cpu, ProgressListener progress) {
        try {
            BackendInfo info = primary.info();
            progress.message("backend " + name + ": " + info.device());
            return new FallbackBackend(name, primary, cpu, progress);
        } catch (RuntimeException | LinkageError e) {
            String why = e instanceof TinyPtqException ? e.getMessage() : e.toString();
            progress.message("backend " + name + " is not available, running on cpu instead: " + why);
            return cpu;
        }
    }

    private void say(String what, UnsupportedOperationException e) {
        String line = name + " declines " + what + ", running it on cpu: " + e.getMessage();
        if (said.add(line.replaceAll("'[^']*'", "''"))) {
            progress.message(line);
        }
    }

    @Override
    public BackendInfo info() {
        return primary.info();
    }

    @Override
    public ModelExecutor compile(Model model, QuantizedModel quantized, int maxBatch) {
        try {
            return primary.compile(model, quantized, maxBatch);
        } catch (UnsupportedOperationException e) {
            say("model execution", e);
            return cpu.compile(model, quantized, maxBatch);
        }
    }

    @Override
    public TrainingSession train(TrainingProblem problem, TrainingSettings settings) {
        try {
            return primary.train(problem, settings);
        } catch (UnsupportedOperationException e) {
            say("a training session", e);
            return cpu.train(problem, settings);
        }
    }
}
