#!/usr/bin/env bash
# Activation-aware equalization at initialization: CLE + MSE initialization (no optimization), 8-bit weights and
# 3-bit activations (model input at 8 bits), with `cle` equalizing weight ranges only (activations: none), then
# also the activation channel ranges of the groups read only by depthwise layers, or of every group, at several
# strengths alpha. Each run prints one JSON line with a "label".
# Usage (from the repository root, after ./mvnw -q install -DskipTests):
#   docs/results/studies/2026-12-full-length-runs/activation-equalization-init.sh > docs/results/studies/2026-12-full-length-runs/activation-equalization-init.jsonl
set -uo pipefail
M=../shared/models
run() {
  local label=$1 pairs=$2 alpha=$3; shift 3
  bin/tinyptq run cle-mse "$@" --wbits 8 --abits 3 --set preprocess.cle.activations=$pairs \
      --set preprocess.cle.activation_strength=$alpha --json 2>/dev/null \
    | python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); d["label"]=sys.argv[1]; print(json.dumps(d))' "$label" \
    || echo "run failed: $label $*" >&2
}
KWS=(--model $M/kws_ref_model_float32.tflite --data kws-test --calib 1024)
RESNET=(--model $M/pretrainedResnet.tflite --data cifar10-test --calib-data cifar10-train5k --calib 1024)
for m in KWS RESNET; do
  declare -n a=$m
  run "$m none" none 1 "${a[@]}"
  [ $m = KWS ] && run "$m depthwise 1" depthwise 1 "${a[@]}" && run "$m depthwise 0.5" depthwise 0.5 "${a[@]}"
  for alpha in 1 0.5 0.25; do run "$m all $alpha" all $alpha "${a[@]}"; done
done
