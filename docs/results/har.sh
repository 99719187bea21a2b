#!/usr/bin/env bash
# The paper's UCI-HAR CNN (zoo architecture har-cnn, without BatchNorm) trained in Java on the rebuilt UCI-HAR
# windows, over 5 training seeds; then W8A8 MSE and W4A4/W2A2 paper/best (AdaRound, reduced iterations) PTQ of
# the seed-0 model. JSON lines on standard output.
# Usage (from the repository root, after ./mvnw -q install -DskipTests): docs/results/har.sh > docs/results/har.jsonl
set -uo pipefail
for seed in 0 1 2 3 4; do
  bin/tinyptq train har-cnn --data har-train --eval har-test --epochs 15 --lr 0.001 --patience 4 --seed $seed \
    --out target/har-$seed --json 2>/dev/null
done
q() { bin/tinyptq run "$@" --json 2>/dev/null || echo "run failed: $*" >&2; }
q mse --model target/har-0 --data har-test --calib-data har-train --calib 1024 --wbits 8 --abits 8
for bits in 4 2; do
  q recipes/paper/best.yaml --model target/har-0 --data har-test --calib-data har-train --calib 1024 \
    --wbits $bits --abits $bits --set optimize.round.iterations=${ITER:-500}
done
