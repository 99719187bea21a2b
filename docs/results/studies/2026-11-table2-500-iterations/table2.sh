#!/usr/bin/env bash
# Table 2 of the paper on the real data, at the iteration count this machine affords: the Sec. 4.3 pipeline
# (recipes/paper/best-*.yaml: CLE, MSE init, layer-wise reconstruction of one variable, bias tuning) for each of
# the four variables at W4A4, W3A3 and W2A2, for ResNet-8 (CIFAR-10) and DS-CNN (KWS). One JSON line per run.
# Usage (from the repository root, after ./mvnw -q install -DskipTests):
#   ITER=500 docs/results/studies/2026-11-table2-500-iterations/table2.sh > docs/results/studies/2026-11-table2-500-iterations/table2.jsonl
set -uo pipefail
M=../shared/models
ITER=${ITER:-500}
run() { bin/tinyptq run "$@" --json 2>/dev/null || echo "run failed: $*" >&2; }
for bits in 4 3 2; do
  for v in round weights qparam bits; do
    set_iter=(); [ $v != bits ] && set_iter=(--set optimize.$v.iterations=$ITER)
    run recipes/paper/best-$v.yaml --model $M/pretrainedResnet.tflite --data cifar10-test --calib-data cifar10-train5k \
      --calib 1024 --wbits $bits --abits $bits "${set_iter[@]}"
    run recipes/paper/best-$v.yaml --model $M/kws_ref_model_float32.tflite --data kws-test --calib 1024 \
      --wbits $bits --abits $bits "${set_iter[@]}"
  done
done
