package io.tinyptq.backend.tornado;

import io.tinyptq.api.spi.TrainingSettings;
import io.tinyptq.backend.kernels.KernelSession;
import io.tinyptq.backend.kernels.LayerUnit;
import java.util.concurrent.atomic.AtomicInteger;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.TornadoExecutionResult;
import uk.ac.manchester.tornado.api.common.TornadoDevice;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;

/**
 * A layer unit's reconstruction as one TornadoVM task graph: the calibration inputs, targets, weights, V and Adam's
 * moments go to the device on the first step and stay there; each step sends the batch's row indices and the step's
 * scalars ({@code rows}, {@code hyper}: a few hundred bytes), runs gather, soft rounding, forward with the loss
 * gradient, the loss partial sums, the weight gradient, the V (or weight) update and the bias update as seven
 * kernels, and brings nothing back. The loss partial sums and the variables cross back only when a loss or the
 * result is asked for.
 */
final class TornadoSession extends KernelSession {
    private static final AtomicInteger GRAPHS = new AtomicInteger();

    private final TornadoExecutionPlan plan;
    private TornadoExecutionResult last;

    TornadoSession(LayerUnit u, TrainingSettings settings, TornadoDevice device) {
        super(u, settings);
        TaskGraph graph = new TaskGraph("recon" + GRAPHS.incrementAndGet())
                .transferToDevice(
                        DataTransferMode.FIRST_EXECUTION,
                        u.inputs,
                        u.targets,
                        u.weight,
                        u.bias,
                        u.scale,
                        u.zero,
                        u.v,
                        u.adamM,
                        u.adamV,
                        u.biasAdamM,
                        u.biasAdamV,
                        u.dims,
                        u.x,
                        u.softWeight,
                        u.dy,
                        u.squaredError,
                        u.weightGradParts,
                        u.lossParts)
                .transferToDevice(DataTransferMode.EVERY_EXECUTION, u.rows, u.hyper)
                .task("gather", TornadoKernels::gatherInput, u.inputs, u.rows, u.x, u.dims, u.hyper)
                .task(
                        "weights",
                        TornadoKernels::quantizeWeights,
                        u.weight,
                        u.v,
                        u.scale,
                        u.zero,
                        u.softWeight,
                        u.dims,
                        u.hyper)
                .task(
                        "forward",
                        TornadoKernels::forwardLoss,
                        u.x,
                        u.softWeight,
                        u.bias,
                        u.targets,
                        u.rows,
                        u.dy,
                        u.squaredError,
                        u.dims,
                        u.hyper)
                .task("loss", TornadoKernels::loss, u.squaredError, u.lossParts, u.dims, u.hyper)
                .task("wgrad", TornadoKernels::weightGrad, u.x, u.dy, u.weightGradParts, u.dims, u.hyper)
                .task(
                        "update",
                        TornadoKernels::update,
                        u.weight,
                        u.v,
                        u.weightGradParts,
                        u.scale,
                        u.zero,
                        u.adamM,
                        u.adamV,
                        u.dims,
                        u.hyper)
                .task("bias", TornadoKernels::biasUpdate, u.dy, u.bias, u.biasAdamM, u.biasAdamV, u.dims, u.hyper)
                .transferToHost(DataTransferMode.UNDER_DEMAND, u.lossParts, u.v, u.weight, u.bias);
        this.plan = new TornadoExecutionPlan(graph.snapshot());
        if (device != null) {
            plan.withDevice(device);
        }
    }

    @Override
    protected void executeStep() {
        last = plan.execute();
    }

    @Override
    protected void readLoss() {
        if (last != null) {
            last.transferToHost(unit.lossParts);
        }
    }

    @Override
    protected void readVariables() {
        if (last != null) {
            last.transferToHost(unit.v, unit.weight, unit.bias);
        }
    }

    @Override
    public void close() {
        try {
            plan.close();
        } catch (Exception e) {
            throw new IllegalStateException("releasing TornadoVM device buffers of " + unit.layerName(), e);
        }
    }
}
