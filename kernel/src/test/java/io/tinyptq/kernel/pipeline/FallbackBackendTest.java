package io.tinyptq.kernel.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class FallbackBackendTest {
    private final List<String> lines = new ArrayList<>();
    private final ProgressListener progress = new ProgressListener() {
        @Override
        public void progress(String task, long done, long total) {}

        @Override
        public void message(String text) {
            lines.add(text);
        }
    };

    /** A backend whose info, compile and train do what the test says; counts its calls. */
    private static final class Fake implements BoundBackend {
        final String name;
        final RuntimeException onInfo;
        final boolean declines;
        int compiles;
        int trains;

        Fake(String name, RuntimeException onInfo, boolean declines) {
            this.name = name;
            this.onInfo = onInfo;
            this.declines = declines;
        }

        @Override
        public BackendInfo info() {
            if (onInfo != null) {
                throw onInfo;
            }
            return new BackendInfo(name, name + " device", 1, 1);
        }

        @Override
        public ModelExecutor compile(Model model, QuantizedModel quantized, int maxBatch) {
            compiles++;
            if (declines) {
                throw new UnsupportedOperationException(name + " runs no models");
            }
            return null;
        }

        @Override
        public TrainingSession train(TrainingProblem problem, TrainingSettings settings) {
            trains++;
            if (declines) {
                throw new UnsupportedOperationException("unit '" + trains + "' is not a layer");
            }
            return null;
        }
    }

    @Test
    void anAcceleratorThatCannotStartLeavesTheRunToTheCpuSayingWhy() {
        Fake cpu = new Fake("cpu", null, false);
        BoundBackend b = FallbackBackend.of(
                "tornado",
                new Fake("tornado", new TinyPtqException("no OpenCL device; install" + " pocl-opencl-icd"), false),
                cpu,
                progress);
        assertSame(cpu, b);
        assertEquals(
                List.of("backend tornado is not available, running on cpu instead: no OpenCL device; install"
                        + " pocl-opencl-icd"),
                lines);
    }

    @Test
    void whatTheAcceleratorDeclinesRunsOnTheCpuAndIsSaidOncePerReason() {
        Fake cpu = new Fake("cpu", null, false);
        Fake acc = new Fake("tornado", null, true);
        BoundBackend b = FallbackBackend.of("tornado", acc, cpu, progress);
        b.compile(null, null, 1);
        b.compile(null, null, 1);
        b.train(null, null);
        b.train(null, null);
        assertEquals(2, acc.compiles);
        assertEquals(2, cpu.compiles);
        assertEquals(2, cpu.trains);
        assertEquals("backend tornado: tornado device", lines.get(0));
        assertEquals(3, lines.size(), lines.toString());
        assertTrue(
                lines.get(1).startsWith("tornado declines model execution, running it on cpu: tornado runs no models"));
        assertTrue(
                lines.get(2).startsWith("tornado declines a training session, running it on cpu: unit '1'"),
                lines.get(2));
        assertEquals("tornado", b.info().backend());
    }

    @Test
    void whatTheAcceleratorRunsStaysThere() {
        Fake cpu = new Fake("cpu", null, false);
        Fake acc = new Fake("tornado", null, false);
        BoundBackend b = FallbackBackend.of("tornado", acc, cpu, progress);
        b.train(null, null);
        assertEquals(1, acc.trains);
        assertEquals(0, cpu.trains);
    }
}
