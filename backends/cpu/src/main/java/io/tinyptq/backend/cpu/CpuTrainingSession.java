package io.tinyptq.backend.cpu;

import io.tinyptq.api.model.Model;
import io.tinyptq.api.model.Op;
import io.tinyptq.api.model.Tensor;
import io.tinyptq.api.quant.QuantParams;
import io.tinyptq.api.quant.QuantizedModel;
import io.tinyptq.api.spi.StepControl;
import io.tinyptq.api.spi.TrainingOps;
import io.tinyptq.api.spi.TrainingProblem;
import io.tinyptq.api.spi.TrainingSession;
import io.tinyptq.api.spi.TrainingSettings;
import io.tinyptq.api.spi.Variable;
import io.tinyptq.backend.cpu.engine.Adam;
import io.tinyptq.backend.cpu.engine.Batches;
import io.tinyptq.backend.cpu.engine.Graph;
import io.tinyptq.backend.cpu.engine.Param;
import io.tinyptq.backend.cpu.engine.Value;
import io.tinyptq.backend.cpu.kernels.AdaRound;
import io.tinyptq.backend.cpu.kernels.FakeQuant;
import io.tinyptq.backend.cpu.kernels.Parallel;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A {@link TrainingProblem} compiled onto the autodiff graph ({@link UnitGraph}) and trained there: inputs and
 * targets stay in this session's arrays; each step gathers a seeded mini-batch into the graph's preallocated input
 * buffers, so the loop allocates nothing.
 */
final class CpuTrainingSession implements TrainingSession {
    /**
     * Running-statistics momentum of batch normalization while weights train (Keras' default): each step moves
     * the running mean and variance 1 % toward the batch's.
     */
    static final float BATCH_NORM_MOMENTUM = 0.99f;

    /** Floor of a trained activation scale. */
    static final float MIN_ACTIVATION_SCALE = 1e-6f;

    /**
     * Floor of a scale trained as a QPARAMS variable, as a fraction of its initial value. Adam moves every
     * parameter by about the learning rate per step whatever its size, so a small per-channel weight scale (say
     * 2e-4) would cross zero within a few steps at lr 1e-3; the floor keeps it positive (a scale shrunk a
     * hundredfold already zeroes almost all of its channel's weights).
     */
    static final float MIN_SCALE_FRACTION = 1e-2f;

    private final TrainingProblem problem;
    private final UnitGraph unit;
    private final Graph graph;
    private final Value input;
    private final Value target;
    private final Value loss;
    private final int[] labels;
    private final Adam adam;
    /** The second Adam, over the activation scales that train alongside the variables (null when none does). */
    private final Adam activationAdam;
    /** The biases' own Adam where {@link TrainingSettings#biasLearningRate()} is set and biases train (else null). */
    private final Adam biasAdam;

    private final Batches batches;
    private final int batchSize;
    private final int inSize;
    private final int outSize;
    private int[] order;
    private int cursor;
    /** For QPARAMS: each trained scale's floor, {@link #MIN_SCALE_FRACTION} of its initial values. */
    private final Map<Param, float[]> scaleFloors = new LinkedHashMap<>();
    /** The rounded weights, as an array the training loop walks without allocating an iterator. */
    private final Value[] rounded;
    /** Rounding variables by their {@link TrainingOps#roundingVariable} name. */
    private final Map<String, Param> variables = new TreeMap<>();
    /** The current values of the hyperparameters of {@link TrainingOps}. */
    private float regularizerWeight;

    private float regularizerBeta = 2f;
    private final StepVariables stepVariables = new StepVariables();

    private final Parallel par;
    private final boolean ownsThreads;

    CpuTrainingSession(TrainingProblem problem, TrainingSettings settings, Parallel par, boolean ownsThreads) {
        this.par = par;
        this.ownsThreads = ownsThreads;
        this.problem = problem;
        this.unit = new UnitGraph(problem, settings, par);
        this.graph = unit.graph;
        this.input = unit.input;
        this.target = unit.target;
        this.loss = unit.loss;
        this.labels = unit.labels;
        this.inSize = unit.inSize;
        this.outSize = unit.outSize;
        this.batchSize = Math.min(settings.batchSize(), problem.samples());
        this.rounded = unit.soft.values().toArray(new Value[0]);
        unit.vs.forEach((layer, v) -> variables.put(TrainingOps.roundingVariable(layer), v));
        List<Param> trainable = new ArrayList<>(graph.trainableParams());
        trainable.removeAll(unit.activationScales.values());
        List<Param> biases = new ArrayList<>();
        if (settings.biasLearningRate() > 0) {
            for (Op.Layer l : problem.model().model().layers()) {
                Param b = l.bias() == null ? null : unit.constants.get(l.bias());
                if (b != null && trainable.remove(b)) {
                    biases.add(b);
                }
            }
        }
        this.adam = new Adam(trainable, (float) settings.learningRate());
        this.biasAdam = biases.isEmpty() ? null : new Adam(biases, (float) settings.biasLearningRate());
        this.activationAdam = unit.activationScales.isEmpty()
                ? null
                : new Adam(List.copyOf(unit.activationScales.values()), (float) settings.activationLearningRate());
        this.batches = new Batches(problem.samples(), settings.seed());
        this.order = batches.nextEpoch();
        if (unit.trains(Variable.QPARAMS)) {
            for (Param[] sz : unit.qparams.values()) {
                float[] floor = sz[0].data().clone();
                for (int i = 0; i < floor.length; i++) {
                    floor[i] = Math.max(floor[i] * MIN_SCALE_FRACTION, MIN_ACTIVATION_SCALE);
                }
                scaleFloors.put(sz[0], floor);
            }
        }
    }

    @Override
    public double run(int steps, StepControl control) {
        // Training steps normalize with batch statistics when the weights train (BatchNorm's training mode).
        graph.training(unit.trains(Variable.WEIGHTS));
        graph.randomSelection(true);
        boolean regularizes = control.regularizes();
        double sum = 0;
        for (int step = 0; step < steps; step++) {
            if (cursor + batchSize > order.length) {
                order = batches.nextEpoch();
                cursor = 0;
            }
            loadInputs(order, cursor, batchSize);
            fillTargets(order, cursor, batchSize);
            cursor += batchSize;
            control.beforeStep(step, steps, this);
            graph.zeroGrad();
            graph.forward(batchSize);
            sum += loss.data()[0];
            // The rectified sigmoid's regularizer gradient joins V's in the rounding node's backward, in the same
            // pass over V as the reconstruction gradient.
            for (Value r : rounded) {
                graph.adaRoundRegularizer(r, regularizerBeta, regularizerWeight);
            }
            graph.backward();
            if (regularizes) {
                control.afterBackward(step, stepVariables);
            }
            adam.step();
            if (biasAdam != null) {
                biasAdam.step();
            }
            scaleFloors.forEach((scale, floor) -> {
                float[] d = scale.data();
                for (int i = 0; i < d.length; i++) {
                    d[i] = Math.max(d[i], floor[i]);
                }
            });
            if (activationAdam != null) {
                activationAdam.step();
                // A step size must stay positive; Adam moves it by about the learning rate per step whatever its size.
                for (Param scale : unit.activationScales.values()) {
                    float[] d = scale.data();
                    for (int i = 0; i < d.length; i++) {
                        d[i] = Math.max(d[i], MIN_ACTIVATION_SCALE);
                    }
                }
            }
        }
        return sum / steps;
    }

    @Override
    public void learningRate(double lr) {
        adam.learningRate((float) lr);
    }

    @Override
    public void activationLearningRate(double lr) {
        if (activationAdam != null) {
            activationAdam.learningRate((float) lr);
        }
    }

    @Override
    public void hyperparameter(String name, double value) {
        switch (name) {
            case TrainingOps.ROUNDING_LAMBDA -> regularizerWeight = (float) value;
            case TrainingOps.ROUNDING_BETA -> regularizerBeta = (float) value;
            case TrainingOps.ROUNDING_HARD -> {
                for (Value r : rounded) {
                    graph.hardRounding(r, value != 0);
                }
            }
            default ->
                throw new IllegalArgumentException(
                        "unknown hyperparameter '" + name + "'; known: " + TrainingOps.HYPERPARAMETERS);
        }
    }

    @Override
    public double loss() {
        double[] sum = {0};
        forwardAllSamples((start, n) -> sum[0] += (double) loss.data()[0] * n);
        return sum[0] / problem.samples();
    }

    @Override
    public Set<String> variables() {
        return variables.keySet();
    }

    @Override
    public float[] read(String name) {
        return variable(name).data().clone();
    }

    @Override
    public void write(String name, float[] values) {
        float[] d = variable(name).data();
        if (values.length != d.length) {
            throw new IllegalArgumentException(
                    "variable '" + name + "' holds " + d.length + " values, got " + values.length);
        }
        System.arraycopy(values, 0, d, 0, d.length);
    }

    private Param variable(String name) {
        Param p = variables.get(name);
        if (p == null) {
            throw new IllegalArgumentException("no variable '" + name + "'; the session has " + variables.keySet());
        }
        return p;
    }

    /** The trained variables in place, for {@link StepControl#afterBackward}. */
    private final class StepVariables implements StepControl.Variables {
        @Override
        public float[] values(String name) {
            return variable(name).data();
        }

        @Override
        public float[] gradient(String name) {
            return variable(name).grad();
        }
    }

    @Override
    public float[] activations(String tensor) {
        Value v = unit.values.get(tensor);
        if (v == null || !v.batched()) {
            throw new IllegalArgumentException("no activation tensor '" + tensor + "' in '"
                    + problem.model().model().name() + "'; it has " + unit.values.keySet());
        }
        int size = v.sampleSize();
        float[] out = new float[problem.samples() * size];
        if (v == input) {
            // The unit's own input, quantized as samples are loaded for training (the graph may keep it only in
            // the first convolution's padded buffer).
            for (int n = 0; n < problem.samples(); n++) {
                if (unit.inputScale == null) {
                    System.arraycopy(problem.inputs(), n * inSize, out, n * inSize, inSize);
                } else {
                    FakeQuant.forward(
                            problem.inputs(),
                            n * inSize,
                            1,
                            1,
                            inSize,
                            unit.inputScale,
                            unit.inputZero,
                            unit.inputQmin,
                            unit.inputQmax,
                            out,
                            n * inSize,
                            Parallel.serial());
                }
            }
            return out;
        }
        forwardAllSamples((start, n) -> System.arraycopy(v.data(), 0, out, start * size, n * size));
        return out;
    }

    /** What to do with chunk {@code [start, start+n)} of the samples after its forward pass. */
    private interface Chunk {
        void done(int start, int n);
    }

    /** Runs every sample, in order and in chunks of the graph's maximum batch, through the evaluation-mode forward. */
    private void forwardAllSamples(Chunk then) {
        graph.training(false);
        graph.randomSelection(false);
        int max = graph.maxBatch();
        for (int start = 0; start < problem.samples(); start += max) {
            int n = Math.min(max, problem.samples() - start);
            int[] rows = identity(start, n);
            loadInputs(rows, start, n);
            fillTargets(rows, start, n);
            graph.forward(n);
            then.done(start, n);
        }
    }

    /**
     * Loads samples {@code rows[from..from+n)} as the graph's input batch, fake-quantizing them on the way when the
     * input quantizer is applied here rather than in the graph (straight into the first convolution's padded
     * buffer when it is the input's only reader, see {@link Graph#loadInput}).
     */
    private void loadInputs(int[] rows, int from, int n) {
        graph.loadInput(
                input,
                problem.inputs(),
                rows,
                from,
                n,
                unit.inputScale,
                unit.inputZero,
                unit.inputQmin,
                unit.inputQmax);
        if (unit.fpInput != null) {
            graph.loadInput(unit.fpInput, problem.fpInputs(), rows, from, n, null, null, 0, 0);
        }
    }

    private void fillTargets(int[] rows, int from, int n) {
        if (labels != null) {
            Batches.gather(problem.labels(), rows, from, n, labels);
        } else {
            Batches.gather(problem.targets(), outSize, rows, from, n, target.data());
        }
        if (unit.fisher != null) {
            Batches.gather(problem.fisherWeights(), outSize, rows, from, n, unit.fisher.data());
        }
    }

    @Override
    public float[] gradients(String tensor) {
        Value v = unit.raw.get(tensor);
        if (v == null || !v.batched()) {
            throw new IllegalArgumentException("no activation tensor '" + tensor + "' in '"
                    + problem.model().model().name() + "'; it has " + unit.raw.keySet());
        }
        // Gradients reach every tensor the input reaches; parameters' gradients are cleared afterwards.
        input.requireGrad();
        int size = v.sampleSize();
        float[] out = new float[problem.samples() * size];
        forwardAllSamples((start, n) -> {
            graph.backward();
            // The loss is the batch mean of the samples' objectives, so each sample's own gradient is n times its
            // share.
            float[] g = v.grad();
            for (int i = 0; i < n * size; i++) {
                out[start * size + i] = g[i] * n;
            }
        });
        graph.zeroGrad();
        return out;
    }

    private static int[] identity(int start, int n) {
        int[] rows = new int[start + n];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = i;
        }
        return rows;
    }

    @Override
    public void commit() {
        QuantizedModel qm = problem.model();
        Model m = qm.model();
        Model.Builder b = m.toBuilder();
        if (unit.trains(Variable.WEIGHTS) || unit.trains(Variable.BIASES)) {
            for (Op.Layer l : m.layers()) {
                if (unit.trains(Variable.WEIGHTS)) {
                    b.constant(
                            l.weight(),
                            new Tensor(
                                    m.constant(l.weight()).shape(),
                                    unit.constants.get(l.weight()).data().clone()));
                }
                if (l.bias() != null) {
                    b.constant(
                            l.bias(),
                            new Tensor(
                                    m.constant(l.bias()).shape(),
                                    unit.constants.get(l.bias()).data().clone()));
                }
            }
        }
        if (unit.trains(Variable.WEIGHTS)) {
            for (Op op : m.ops()) {
                if (op instanceof Op.BatchNorm bn) {
                    for (String p : bn.parameters()) {
                        b.constant(
                                p,
                                new Tensor(
                                        m.constant(p).shape(),
                                        unit.constants.get(p).data().clone()));
                    }
                }
            }
        }
        if (unit.trains(Variable.QPARAMS)) {
            unit.qparams.forEach((q, sz) -> q.setParams(new QuantParams(
                    sz[0].data().clone(),
                    sz[1] == null ? new float[sz[0].size()] : sz[1].data().clone())));
        }
        unit.activationScales.forEach((q, scale) -> q.setParams(
                new QuantParams(scale.data().clone(), q.params().zeroPoint().clone())));
        if (unit.trains(Variable.ROUNDING)) {
            for (var e : unit.vs.entrySet()) {
                Op.Layer l = (Op.Layer) m.op(e.getKey());
                Tensor w = m.constant(l.weight());
                Value rounded = unit.soft.get(l.name());
                graph.hardRounding(rounded, true);
                // The hard-rounded weight lies on the quantizer's grid, so fake-quantizing it again is exact.
                float[] hard = new float[w.data().length];
                UnitGraph.RoundingGrid g = unit.roundingGrid(l);
                AdaRound.hardRoundReference(
                        w.data(),
                        e.getValue().data(),
                        g.oci()[0],
                        g.oci()[1],
                        g.oci()[2],
                        g.scale(),
                        g.zero(),
                        g.qmin(),
                        g.qmax(),
                        hard);
                b.constant(l.weight(), new Tensor(w.shape(), hard));
            }
        }
        qm.setModel(b.build());
    }

    @Override
    public void close() {
        // Buffers belong to the graph and go with it; a thread team made for this session stops here.
        if (ownsThreads) {
            par.close();
        }
    }
}
