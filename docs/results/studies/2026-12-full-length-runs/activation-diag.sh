#!/usr/bin/env bash
# Which 3-bit activation quantizer costs most: CLE + MSE initialization (no optimization) with 8-bit weights and
# 3-bit activations (model input at 8 bits), then the same with one layer's input activation raised to 8 bits, one
# layer at a time (layers reading the same tensor share its quantizer). Each run prints one JSON line with a "label"
# (the layer raised, or "all-3-bit"); activation-diag.py prints the table.
# Usage (from the repository root, after ./mvnw -q install -DskipTests):
#   docs/results/studies/2026-12-full-length-runs/activation-diag.sh > docs/results/studies/2026-12-full-length-runs/activation-diag.jsonl
set -uo pipefail
M=../shared/models
run() {
  local label=$1; shift
  bin/tinyptq run cle-mse "$@" --wbits 8 --abits 3 --json 2>/dev/null \
    | python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); d["label"]=sys.argv[1]; print(json.dumps(d))' "$label" \
    || echo "run failed: $label $*" >&2
}
layers() { bin/tinyptq info --model "$1" 2>/dev/null | awk '$2 ~ /^(conv2d|depthwise_conv2d|conv1d|fully_connected)$/ {print $1}'; }
RESNET=(--model $M/pretrainedResnet.tflite --data cifar10-test --calib-data cifar10-train5k --calib 1024)
KWS=(--model $M/kws_ref_model_float32.tflite --data kws-test --calib 1024)
for args in RESNET KWS; do
  declare -n a=$args
  run all-3-bit "${a[@]}"
  for l in $(layers "${a[1]}" | tail -n +2); do   # the first layer reads the model input, already at 8 bits
    run "$l" "${a[@]}" --set "quantization.overrides=[{layer: $l, activation_bits: 8}]"
  done
done
