package io.tinyptq.backend.tornado;

import io.tinyptq.api.spi.StepControl;
import io.tinyptq.api.spi.TrainingProblem;
import io.tinyptq.api.spi.TrainingSession;
import io.tinyptq.api.spi.TrainingSettings;
import io.tinyptq.backend.cpu.CpuBackend;
import io.tinyptq.testkit.LayerProblems;
import io.tinyptq.testkit.RoundingControl;
import java.util.Locale;

/**
 * The device check a GPU machine runs in one go (backends/tornado/device-check.sh): probe TornadoVM and list its
 * devices; for every ResNet-8 layer shape and two depthwise shapes (DS-CNN, MobileNet), compare the first steps' losses on the device with the cpu backend's
 * (same seed, same batches), then time one AdaRound iteration at batch 32 on the device and on the cpu backend
 * with all cores. Prints one line per shape and a summary; exits 1 when a comparison fails.
 *
 * <p>Arguments: {@code [device] [timedSteps]} (device as {@code backend:device}, empty for TornadoVM's default).
 */
public final class DeviceCheck {
    private DeviceCheck() {}

    public static void main(String[] args) {
        String device = args.length > 0 ? args[0] : "";
        int timed = args.length > 1 ? Integer.parseInt(args[1]) : 500;
        TornadoBackend tornado = new TornadoBackend();
        TornadoBackend.Options opts = new TornadoBackend.Options(device);
        System.out.println("probe: " + tornado.info(opts).device());
        CpuBackend cpu = new CpuBackend();
        System.out.println("cpu: " + cpu.info(cpu.defaultOptions()).device());
        boolean ok = true;
        System.out.println(String.format(
                Locale.ROOT,
                "%-12s %-22s %12s %12s %10s %10s %8s %s",
                "layer",
                "shape",
                "loss cpu",
                "loss device",
                "rel diff",
                "cpu ms/it",
                "dev ms/it",
                "speed-up"));
        java.util.List<String> layers = new java.util.ArrayList<>(LayerProblems.RESNET8_SHAPES);
        layers.add("dw-ds-cnn");
        layers.add("dw-mobilenet");
        for (String layer : layers) {
            int samples = 256;
            TrainingSettings settings = new TrainingSettings(1e-3, 32, 7);
            TrainingProblem onDevice = problem(layer, samples);
            TrainingProblem onCpu = problem(layer, samples);
            try (TrainingSession t = tornado.train(onDevice, settings, opts);
                    TrainingSession c = cpu.train(onCpu, settings, cpu.defaultOptions())) {
                double lc = c.run(5, StepControl.NONE);
                double lt = t.run(5, StepControl.NONE);
                double rel = Math.abs(lc - lt) / lc;
                boolean pass = rel < 1e-3;
                ok &= pass;
                var rounding = RoundingControl.of(0.01, 20, 2);
                t.run(50, rounding); // compiled and warm
                long t0 = System.nanoTime();
                t.run(timed, rounding);
                double devMs = (System.nanoTime() - t0) / 1e6 / timed;
                c.run(20, rounding);
                int cpuSteps = Math.max(20, timed / 10);
                t0 = System.nanoTime();
                c.run(cpuSteps, rounding);
                double cpuMs = (System.nanoTime() - t0) / 1e6 / cpuSteps;
                System.out.println(String.format(
                        Locale.ROOT,
                        "%-12s %-22s %12.6g %12.6g %10.2e %10.3f %10.3f %7.1fx %s",
                        layer,
                        ((TornadoSession) t).unit().shapeString(),
                        lc,
                        lt,
                        rel,
                        cpuMs,
                        devMs,
                        cpuMs / devMs,
                        pass ? "PASS" : "FAIL"));
            }
        }
        System.out.println(ok ? "device check PASSED" : "device check FAILED");
        System.exit(ok ? 0 : 1);
    }

    /** A ResNet-8 layer, or a depthwise layer of DS-CNN (25x5x64) or MobileNetV1-0.25 (48x48x16, stride 2, ReLU6). */
    static TrainingProblem problem(String layer, int samples) {
        return switch (layer) {
            case "dw-ds-cnn" ->
                LayerProblems.depthwise(25, 5, 64, 1, 1, io.tinyptq.api.model.Activation.RELU, samples, 4, 4, 3);
            case "dw-mobilenet" ->
                LayerProblems.depthwise(48, 48, 16, 1, 2, io.tinyptq.api.model.Activation.RELU6, samples, 4, 4, 3);
            default -> LayerProblems.resnet8(layer, samples, 4, 4, 3);
        };
    }
}
