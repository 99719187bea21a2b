package io.tinyptq.sweep.spark;

import io.tinyptq.sweep.TrialResources;
import java.io.Serializable;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;

/**
 * Where Spark ran a trial's task and what it gave it: the cores of {@code spark.task.cpus} and, with
 * {@code spark.task.resource.gpu.amount=1}, one GPU address from the executor's discovery script.
 *
 * @param executorId the Spark executor ({@code driver} in embedded local mode)
 * @param cpus       cores Spark reserved for the task
 * @param gpu        the task's GPU address, or null when it has none
 */
public record TaskPlacement(String executorId, int cpus, String gpu) implements Serializable {

    /** TornadoVM's first backend: the OpenCL one, which the tornado backend is built with (README, GPU and FPGA). */
    static final int TORNADO_BACKEND = 0;

    /** The task running in this thread. */
    static TaskPlacement current() {
        TaskContext task = TaskContext.get();
        ResourceInformation gpus = task.resources().get("gpu").getOrElse(() -> null);
        String gpu = gpus == null || gpus.addresses().length == 0 ? null : gpus.addresses()[0];
        return new TaskPlacement(SparkEnv.get().executorId(), task.cpus(), gpu);
    }

    /**
     * The task's cores as the cpu backend's threads, its GPU as the tornado backend's device {@code 0:ADDRESS}: the
     * discovery script must number GPUs as TornadoVM numbers its OpenCL devices.
     */
    public TrialResources resources() {
        return new TrialResources(cpus, gpu == null ? null : TORNADO_BACKEND + ":" + gpu);
    }
}
