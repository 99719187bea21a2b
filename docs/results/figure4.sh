#!/usr/bin/env bash
# The paper's Figure 4 ablation on the real data: MinMax vs MSE initialization for weights and activations, and
# CLE before MSE, at W/A = 8/6/5/4/3 bits, for ResNet-8 (CIFAR-10) and DS-CNN (KWS); plus W8A8 MSE for all three
# MLPerf Tiny models. Each run prints one JSON line (tinyptq run --json); figure4.py turns them into tables.
# Usage (from the repository root, after ./mvnw -q install -DskipTests): docs/results/figure4.sh > docs/results/figure4.jsonl
set -uo pipefail
M=../shared/models
run() { bin/tinyptq run "$@" --json 2>/dev/null || echo "run failed: $*" >&2; }
for bits in 8 6 5 4 3; do
  for recipe in minmax mse mse-weights-minmax-activations minmax-weights-mse-activations cle-mse; do
    run "$recipe" --model $M/pretrainedResnet.tflite --data cifar10-test --calib-data cifar10-train5k --calib 1024 \
      --wbits $bits --abits $bits
    run "$recipe" --model $M/kws_ref_model_float32.tflite --data kws-test --calib 1024 --wbits $bits --abits $bits
  done
done
run mse --model $M/vww_96_float.tflite --data vww01 --calib 200 --wbits 8 --abits 8
