#!/usr/bin/env bash
# End-to-end bias tuning with and without the activation step sizes (bias-tuning's activation_learning_rate), on
# ResNet-8 with 8-bit weights and 3-bit activations after CLE + MSE initialization (no reconstruction), so that
# only the activation side is at stake. One JSON line per run, labelled "<activation lr>/<iterations>/<loss>".
# Usage (from the repository root): docs/results/studies/2026-12-full-length-runs/bias-tuning-steps.sh > docs/results/studies/2026-12-full-length-runs/bias-tuning-steps.jsonl
set -uo pipefail
R=$(mktemp --suffix=.yaml)
trap 'rm -f "$R"' EXIT
cat > "$R" <<'YAML'
name: cle-mse-bias-tuning
description: CLE + MSE initialization + end-to-end bias tuning
seed: 0
calibration: {size: 5000, batch_size: 32}
quantization: {weight_bits: 8, activation_bits: 3, input_bits: 8}
backend: cpu
preprocess: [cle]
init: {weights: mse, activations: mse}
postprocess:
  - plugin: bias-tuning
    options: {iterations: 1000, learning_rate: 1.0e-4, batch_size: 32}
YAML
for v in "0 1000 mse" "4e-4 1000 mse" "1e-3 4000 mse" "0 1000 kl" "1e-3 4000 kl"; do
  set -- $v
  bin/tinyptq run "$R" --model ../shared/models/pretrainedResnet.tflite --data cifar10-test --calib-data cifar10-train5k \
    --set postprocess.bias-tuning.activation_learning_rate=$1 --set postprocess.bias-tuning.iterations=$2 \
    --set postprocess.bias-tuning.loss=$3 --json 2>/dev/null \
    | python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); d["label"]=sys.argv[1]; print(json.dumps(d))' "$1/$2/$3" \
    || echo "run failed: $v" >&2
done
