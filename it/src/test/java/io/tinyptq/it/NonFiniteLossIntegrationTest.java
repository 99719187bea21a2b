package io.tinyptq.it;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tinyptq.api.TinyPtqException;
import io.tinyptq.api.model.Model;
import io.tinyptq.api.model.Shape;
import io.tinyptq.api.quant.QuantScheme;
import io.tinyptq.api.quant.QuantizedModel;
import io.tinyptq.api.spi.BackendInfo;
import io.tinyptq.api.spi.CalibrationSet;
import io.tinyptq.api.spi.ComputeBackend;
import io.tinyptq.api.spi.Dataset;
import io.tinyptq.api.spi.ModelExecutor;
import io.tinyptq.api.spi.PluginKind;
import io.tinyptq.api.spi.ProgressListener;
import io.tinyptq.api.spi.StageContext;
import io.tinyptq.api.spi.StepControl;
import io.tinyptq.api.spi.TrainingProblem;
import io.tinyptq.api.spi.TrainingSession;
import io.tinyptq.api.spi.TrainingSettings;
import io.tinyptq.backend.cpu.CpuBackend;
import io.tinyptq.kernel.Kernel;
import io.tinyptq.kernel.pipeline.BoundBackends;
import io.tinyptq.kernel.pipeline.CancellationToken;
import io.tinyptq.kernel.pipeline.RunOptions;
import io.tinyptq.kernel.recipe.Calibration;
import io.tinyptq.kernel.recipe.Recipe;
import io.tinyptq.kernel.train.Trainer;
import io.tinyptq.plugins.optimize.Granularity;
import io.tinyptq.plugins.optimize.ReconstructionLoss;
import io.tinyptq.plugins.optimize.UnitActivations;
import io.tinyptq.plugins.optimize.WeightOptimizer;
import io.tinyptq.plugins.postprocess.BiasTuning;
import io.tinyptq.testkit.TestContext;
import io.tinyptq.testkit.TinyModels;
import io.tinyptq.zoo.SyntheticShapes;
import io.tinyptq.zoo.Zoo;
import java.nio.file.Path;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * A NaN or infinite training loss stops the stage with one message naming where: the reconstruction unit and its
 * layers, bias tuning's output layer, or for training the sample or layer. Divergence in the stages is simulated by a
 * backend whose sessions report a NaN loss; training diverges for real with a learning rate of 1e30.
 */
class NonFiniteLossIntegrationTest {
    static final Kernel KERNEL = Kernel.discover();
    static final Model MODEL = TinyModels.unbalancedChain(11);
    static final int N = 64;
    static final CalibrationSet CALIB = new CalibrationSet(
            "uniform(seed 12)", MODEL.shape("x"), TinyModels.uniform(12, N, MODEL.shape("x"), -1f, 1f), new int[0]);

    /** The test chain with min-max quantizers, as optimization receives it. */
    static QuantizedModel initialized() {
        Recipe r = Recipe.builder("test")
                .seed(4)
                .calibration(new Calibration(N, 32))
                .quantization(QuantScheme.of(4, 8))
                .backend("cpu", new CpuBackend.Options(1))
                .initWeights("minmax", null)
                .initActivations("minmax", null)
                .build(KERNEL.registry());
        return KERNEL.runner().run(r, MODEL, CALIB, RunOptions.defaults()).quantized();
    }

    /** The CPU backend, but every session's loss is NaN: from the start, or from its first steps on. */
    static StageContext diverging(boolean fromTheStart) {
        TestContext cpu = new TestContext(4, CALIB, new CpuBackend(), new CpuBackend.Options(1));
        StageContext.BoundBackend b = cpu.backend();
        StageContext.BoundBackend nan = new StageContext.BoundBackend() {
            @Override
            public BackendInfo info() {
                return b.info();
            }

            @Override
            public ModelExecutor compile(Model model, QuantizedModel quantized, int maxBatch) {
                return b.compile(model, quantized, maxBatch);
            }

            @Override
            public TrainingSession train(TrainingProblem problem, TrainingSettings settings) {
                TrainingSession s = b.train(problem, settings);
                return new TrainingSession() {
                    @Override
                    public double run(int steps, StepControl control) {
                        s.run(steps, control);
                        return Double.NaN;
                    }

                    @Override
                    public void hyperparameter(String name, double value) {
                        s.hyperparameter(name, value);
                    }

                    @Override
                    public double loss() {
                        return fromTheStart ? Double.POSITIVE_INFINITY : s.loss();
                    }

                    @Override
                    public void commit() {
                        s.commit();
                    }

                    @Override
                    public void close() {
                        s.close();
                    }
                };
            }
        };
        return new StageContext() {
            @Override
            public long seed() {
                return cpu.seed();
            }

            @Override
            public SplittableRandom random(String purpose) {
                return cpu.random(purpose);
            }

            @Override
            public CalibrationSet calibration() {
                return CALIB;
            }

            @Override
            public BoundBackend backend() {
                return nan;
            }

            @Override
            public ProgressListener progress() {
                return ProgressListener.NONE;
            }

            @Override
            public void checkCancelled() {}

            @Override
            public Optional<Path> workDir() {
                return Optional.empty();
            }
        };
    }

    @Test
    void aReconstructionLossThatIsNotFiniteNamesTheUnitAndItsLayers() {
        var o = new WeightOptimizer.Options(
                Granularity.LAYER, 300, 1e-3, 32, 64, UnitActivations.QUANTIZED, ReconstructionLoss.MSE, 0);
        String m = assertThrows(
                        TinyPtqException.class,
                        () -> new WeightOptimizer().optimize(initialized(), o, diverging(false)))
                .getMessage();
        assertTrue(
                m.matches("weights: unit '[^']+' \\(layers [^)]+\\): the reconstruction loss is NaN after step \\d+ of"
                        + " 300: the training diverged; lower learning_rate \\(now 0.001\\)"),
                m);
        m = assertThrows(
                        TinyPtqException.class, () -> new WeightOptimizer().optimize(initialized(), o, diverging(true)))
                .getMessage();
        assertTrue(
                m.matches("weights: unit '[^']+' \\(layers [^)]+\\): the reconstruction loss is Infinity before the"
                        + " first step: the unit's calibration inputs or float targets hold NaN or infinite values"),
                m);
    }

    @Test
    void aBiasTuningLossThatIsNotFiniteNamesTheOutputLayer() {
        var o = new BiasTuning.Options(300, 1e-3, 32, 0, BiasTuning.Loss.MSE);
        String out = MODEL.outputs().get(0);
        String layer = MODEL.producer(out).orElseThrow().name();
        String m = assertThrows(
                        TinyPtqException.class, () -> new BiasTuning().apply(initialized(), o, diverging(false)))
                .getMessage();
        assertTrue(
                m.startsWith("bias-tuning: the loss at the model's output '" + out + "' (layer '" + layer + "') is NaN"
                        + " after step 100 of 300: the training diverged; lower learning_rate (now 0.001)"),
                m);
    }

    /** A learning rate of 1e30 makes the weights overflow; a NaN in a sample is named as such. */
    @Test
    void aTrainingLossThatIsNotFiniteNamesTheLayerOrTheSample() {
        var cpu = BoundBackends.withDefaults(KERNEL.registry().find(PluginKind.BACKEND, "cpu", ComputeBackend.class));
        Dataset data = SyntheticShapes.of("train", 200, 2022, 0);
        String m = assertThrows(
                        TinyPtqException.class,
                        () -> Trainer.train(
                                cpu,
                                Zoo.build("toy-cnn", 1),
                                data,
                                new Trainer.Settings(2, 1e30, 32, 0.1, 3, 1),
                                ProgressListener.NONE,
                                new CancellationToken()))
                .getMessage();
        assertTrue(
                m.matches(
                        "training \\S+: the loss is (NaN|Infinity) in epoch 1 \\(steps \\d+ to \\d+ of \\d+\\): layer"
                                + " '[^']+' (has NaN or infinite values in '[^']+'|outputs NaN or infinite values \\('[^']+'\\), its"
                                + " weights grown too large); the training diverged: lower --lr \\(learning rate now 1.0E30\\)"),
                m);
        Dataset poisoned = new Dataset() {
            @Override
            public String name() {
                return data.name();
            }

            @Override
            public int size() {
                return data.size();
            }

            @Override
            public Shape sampleShape() {
                return data.sampleShape();
            }

            @Override
            public int numClasses() {
                return data.numClasses();
            }

            @Override
            public int label(int index) {
                return data.label(index);
            }

            @Override
            public void read(int index, float[] dst, int offset) {
                data.read(index, dst, offset);
                if (index % 5 == 2) {
                    dst[offset + 3] = Float.NaN;
                }
            }
        };
        m = assertThrows(
                        TinyPtqException.class,
                        () -> Trainer.train(
                                cpu,
                                Zoo.build("toy-cnn", 1),
                                poisoned,
                                new Trainer.Settings(2, 1e-3, 32, 0.1, 3, 1),
                                ProgressListener.NONE,
                                new CancellationToken()))
                .getMessage();
        assertTrue(
                m.matches("training \\S+: the loss is NaN in epoch 1 \\(steps \\d+ to \\d+ of \\d+\\): training sample"
                        + " \\d*[27] holds NaN at value 3"),
                m);
    }
}
