package io.tinyptq.backend.tornado;

import io.tinyptq.backend.kernels.ReconKernels;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.TornadoRuntime;
import uk.ac.manchester.tornado.api.common.TornadoDevice;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.runtime.TornadoRuntimeProvider;

/**
 * Starts TornadoVM once per JVM (its start-up failure is permanent for the JVM), lists its devices, picks one and
 * checks one small kernel on it against the same kernel's plain-Java loop. The outcome, good or bad, is kept.
 */
final class TornadoProbe {
    /** What a working probe found. */
    record Found(TornadoDevice device, String name, List<String> devices) {}

    /** How the probe's message starts when TornadoVM is not available: it does not start, or sees no device. */
    static final String NOT_STARTED = "TornadoVM did not start";

    static final String NO_DEVICE = "TornadoVM started but found no device";

    private static final String HOW_TO_FIX = "point TORNADO_SDK at a TornadoVM 5.2 SDK built with the OpenCL backend"
            + " and start tinyptq with bin/tinyptq, which adds TornadoVM's JVM flags; `clinfo -l` must list an OpenCL"
            + " device (on a machine without a GPU: apt install pocl-opencl-icd)";

    private static final java.util.Map<String, Object> RESULTS = new java.util.HashMap<>();

    private TornadoProbe() {}

    /**
     * The device named by {@code spec} ({@code ""} for TornadoVM's default, else {@code backend:device}, as
     * {@link #devices} numbers them), checked; throws {@link IllegalStateException} saying why not and how to fix it.
     */
    static synchronized Found probe(String spec) {
        Object r = RESULTS.computeIfAbsent(spec, TornadoProbe::run);
        if (r instanceof Found f) {
            return f;
        }
        throw new IllegalStateException((String) r);
    }

    private static Object run(String spec) {
        // A kernel TornadoVM cannot compile must fail here, not run as sequential Java on the host unnoticed.
        System.setProperty("tornado.recover.bailout", "False");
        TornadoRuntime rt;
        List<String> devices = new ArrayList<>();
        try {
            rt = TornadoRuntimeProvider.getTornadoRuntime();
            for (int b = 0; b < rt.getNumBackends(); b++) {
                var backend = rt.getBackend(b);
                for (int d = 0; d < backend.getNumDevices(); d++) {
                    devices.add(b + ":" + d + " "
                            + backend.getDevice(d).getPhysicalDevice().getDeviceName() + " (" + backend.getName()
                            + ")");
                }
            }
        } catch (Throwable e) {
            return NOT_STARTED + " (" + causes(e) + "); " + HOW_TO_FIX;
        }
        if (devices.isEmpty()) {
            return NO_DEVICE + "; " + HOW_TO_FIX;
        }
        TornadoDevice device;
        try {
            if (spec.isEmpty()) {
                device = rt.getDefaultDevice();
            } else {
                String[] bd = spec.split(":");
                device = rt.getBackend(Integer.parseInt(bd[0].trim())).getDevice(Integer.parseInt(bd[1].trim()));
            }
        } catch (RuntimeException e) {
            return "no TornadoVM device '" + spec + "' (expected backend:device among " + devices + ")";
        }
        String name = device.getPhysicalDevice().getDeviceName() + " via " + device.getPlatformName();
        String check = checkKernel(device);
        if (check != null) {
            return "TornadoVM's device " + name + " failed the check kernel: " + check + "; " + HOW_TO_FIX;
        }
        return new Found(device, name, List.copyOf(devices));
    }

    /** {@code e} and its causes, innermost last: TornadoVM's start-up errors wrap the one that says what is wrong. */
    static String causes(Throwable e) {
        StringBuilder b = new StringBuilder(e.toString());
        for (Throwable c = e.getCause(); c != null && c != c.getCause(); c = c.getCause()) {
            b.append(" <- ").append(c);
        }
        // TornadoVM colours some messages for a terminal; the line goes into logs and provenance too.
        return b.toString().replaceAll("\u001B\\[[0-9;]*m", "");
    }

    /** Soft rounding of 1,000 random weights on the device against the plain loop; null when they agree. */
    static String checkKernel(TornadoDevice device) {
        int channels = 10;
        int inner = 100;
        SplittableRandom r = new SplittableRandom(42);
        float[] w = new float[channels * inner];
        float[] v = new float[w.length];
        float[] scale = new float[channels];
        float[] zero = new float[channels];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (r.nextDouble() * 2 - 1);
            v[i] = (float) (r.nextDouble() * 8 - 4);
        }
        for (int c = 0; c < channels; c++) {
            scale[c] = 0.05f + 0.01f * c;
        }
        int[] dims = new int[ReconKernels.DIMS];
        dims[ReconKernels.W_CHANNELS] = channels;
        dims[ReconKernels.W_INNER] = inner;
        float[] hyper = new float[ReconKernels.HYPER];
        hyper[ReconKernels.W_QMIN] = -8;
        hyper[ReconKernels.W_QMAX] = 7;
        float[] onDevice = new float[w.length];
        float[] expected = new float[w.length];
        for (int j = 0; j < w.length; j++) {
            ReconKernels.quantizeWeightAt(j, w, v, scale, zero, expected, dims, hyper);
        }
        TaskGraph g = new TaskGraph("tinyptqProbe")
                .transferToDevice(DataTransferMode.FIRST_EXECUTION, w, v, scale, zero, dims, hyper)
                .task("soft", TornadoKernels::quantizeWeights, w, v, scale, zero, onDevice, dims, hyper)
                .transferToHost(DataTransferMode.EVERY_EXECUTION, onDevice);
        try (TornadoExecutionPlan plan = new TornadoExecutionPlan(g.snapshot())) {
            plan.withDevice(device).execute();
        } catch (Throwable e) {
            // TornadoVM's own messages are terse ("unimplemented"); where it failed says more.
            StackTraceElement[] at = e.getStackTrace();
            return e + (at.length > 0 ? " at " + at[0] : "");
        }
        for (int j = 0; j < w.length; j++) {
            if (Math.abs(onDevice[j] - expected[j]) > 1e-5f * Math.max(1f, Math.abs(expected[j]))) {
                return "weight " + j + " is " + onDevice[j] + " on the device, " + expected[j] + " in Java";
            }
        }
        return null;
    }
}
