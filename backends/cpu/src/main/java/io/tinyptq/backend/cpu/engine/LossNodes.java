package io.tinyptq.backend.cpu.engine;

import io.tinyptq.backend.cpu.kernels.Losses;

/** Graph nodes of the training objectives: cross-entropy, MSE, KL divergence, weighted MSE. */
final class LossNodes {
    private LossNodes() {}

    static final class CrossEntropy extends Node {
        final int[] labels;
        final float[] probs;

        CrossEntropy(Value logits, int maxBatch) {
            super(logits);
            this.labels = new int[maxBatch];
            this.probs = new float[logits.sampleSize * maxBatch];
        }

        @Override
        void forward(int n) {
            out.data[0] = Losses.crossEntropy(inputs[0].data, n, inputs[0].sampleSize, labels, probs, null, 0f);
        }

        @Override
        void backward(int n) {
            if (needs(inputs[0])) {
                Losses.crossEntropy(
                        inputs[0].data, n, inputs[0].sampleSize, labels, probs, inputs[0].grad, out.grad[0]);
            }
        }
    }

    static final class MeanSquaredError extends Node {
        MeanSquaredError(Value prediction, Value target) {
            super(prediction, target);
        }

        @Override
        void forward(int n) {
            out.data[0] = Losses.mse(inputs[0].data, 0, inputs[1].data, 0, inputs[0].size(n), null, 0, 0f);
        }

        @Override
        void backward(int n) {
            if (needs(inputs[0])) {
                Losses.mse(inputs[0].data, 0, inputs[1].data, 0, inputs[0].size(n), inputs[0].grad, 0, out.grad[0]);
            }
            if (needs(inputs[1])) {
                Losses.mse(inputs[1].data, 0, inputs[0].data, 0, inputs[1].size(n), inputs[1].grad, 0, out.grad[0]);
            }
        }
    }

    static final class KlDivergence extends Node {
        final float[] probs;
        final float[] targetProbs;

        KlDivergence(Value logits, Value targetLogits, int maxBatch) {
            super(logits, targetLogits);
            this.probs = new float[logits.sampleSize * maxBatch];
            this.targetProbs = new float[logits.sampleSize * maxBatch];
        }

        @Override
        void forward(int n) {
            out.data[0] = Losses.klDivergence(
                    inputs[0].data, inputs[1].data, n, inputs[0].sampleSize, probs, targetProbs, null, 0f);
        }

        @Override
        void backward(int n) {
            if (needs(inputs[0])) {
                Losses.klDivergence(
                        inputs[0].data,
                        inputs[1].data,
                        n,
                        inputs[0].sampleSize,
                        probs,
                        targetProbs,
                        inputs[0].grad,
                        out.grad[0]);
            }
        }
    }

    static final class WeightedMeanSquaredError extends Node {
        WeightedMeanSquaredError(Value prediction, Value target, Value weight) {
            super(prediction, target, weight);
        }

        @Override
        void forward(int n) {
            out.data[0] =
                    Losses.weightedMse(inputs[0].data, inputs[1].data, inputs[2].data, inputs[0].size(n), null, 0f);
        }

        @Override
        void backward(int n) {
            if (needs(inputs[0])) {
                Losses.weightedMse(
                        inputs[0].data, inputs[1].data, inputs[2].data, inputs[0].size(n), inputs[0].grad, out.grad[0]);
            }
        }
    }
}
