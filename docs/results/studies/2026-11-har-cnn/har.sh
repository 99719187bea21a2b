#!/usr/bin/env bash
# The paper's UCI-HAR CNN (zoo architecture har-cnn: two conv1d + BatchNorm, max pool, two dense layers) trained in
# Java on the rebuilt UCI-HAR windows over 5 training seeds (validation: whole training subjects held out), BatchNorm
# folded when stored; then PTQ of the seed-0 model: W8A8 MSE, and the paper/best pipeline with each of the four
# variables at W4A4 and W2A2 (ITER iterations per unit for the gradient-based ones, default the recipes' 20,000).
# JSON lines on standard output.
# Usage (from the repository root, after ./mvnw -q install -DskipTests): docs/results/studies/2026-11-har-cnn/har.sh > docs/results/studies/2026-11-har-cnn/har.jsonl
#   TRAIN=0 skips training (reuses target/har-*); PTQ=0 skips quantization.
set -uo pipefail
if [ "${TRAIN:-1}" = 1 ]; then
  for seed in 0 1 2 3 4; do
    bin/tinyptq train har-cnn --data har-train --eval har-test --epochs 15 --lr 0.001 --patience 4 --seed $seed \
      --out target/har-$seed --json 2>/dev/null
  done
fi
[ "${PTQ:-1}" = 1 ] || exit 0
q() { bin/tinyptq run "$@" --json 2>/dev/null || echo "run failed: $*" >&2; }
q mse --model target/har-0 --data har-test --calib-data har-train --calib 1024 --wbits 8 --abits 8
for bits in 4 2; do
  for v in round weights qparam bits; do
    set_iter=(); [ -n "${ITER:-}" ] && [ $v != bits ] && set_iter=(--set optimize.$v.iterations=$ITER)
    q recipes/paper/best-$v.yaml --model target/har-0 --data har-test --calib-data har-train --calib 1024 \
      --wbits $bits --abits $bits "${set_iter[@]}"
  done
done
