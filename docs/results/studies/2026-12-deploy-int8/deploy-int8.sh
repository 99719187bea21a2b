#!/usr/bin/env bash
# Deployable int8 files: each model quantized at W8A8 (MSE) and W4A8 (the paper's best recipe, reduced iterations)
# under both targets, simulated (the paper's placement) and tflite (TFLite's integer kernels), with the same seed,
# calibration and evaluation samples as TfliteTargetRealDataTest; then each tflite run exported as a fully-integer
# file (packed INT4 and, at W4A8, unpacked) and its size printed. JSON lines of `run --json` on standard output,
# export lines on standard error.
# Usage (from the repository root, after ./mvnw -q install -DskipTests, ../shared present):
#   docs/results/studies/2026-12-deploy-int8/deploy-int8.sh > docs/results/studies/2026-12-deploy-int8/deploy-int8.jsonl
set -uo pipefail
S=../shared
OUT=${OUT:-target/deploy-int8}
mkdir -p "$OUT"
q() { bin/tinyptq run "$@" --json 2>/dev/null || echo "run failed: $*" >&2; }
both() {  # NAME RUN-ARGS...: the same run under each target, the tflite one kept in $OUT/NAME and exported
  local name=$1; shift
  q "$@" --set quantization.target=simulated
  q "$@" --set quantization.target=tflite --out "$OUT/$name"
  bin/tinyptq export "$OUT/$name/model" -o "$OUT/$name.tflite" >&2
  case $name in *w4a8) bin/tinyptq export "$OUT/$name/model" -o "$OUT/$name-unpacked.tflite" --unpacked-int4 >&2;; esac
}
best=recipes/paper/best.yaml
r8=(--model $S/models/pretrainedResnet.tflite --data cifar10-test --calib-data cifar10-train5k --abits 8)
kws=(--model $S/models/kws_ref_model_float32.tflite --data kws-rest --calib-data kws-calibration --calib 120 --abits 8)
vww=(--model $S/models/vww_96_float.tflite --data vww01-rest --calib-data vww01-calibration --calib 100 --abits 8)
both resnet8-w8a8 mse "${r8[@]}" --wbits 8
both resnet8-w4a8 $best "${r8[@]}" --wbits 4 --set optimize.round.iterations=200 --set postprocess.bias-tuning.iterations=200
both dscnn-w8a8 mse "${kws[@]}" --wbits 8
both dscnn-w4a8 $best "${kws[@]}" --wbits 4 --set optimize.round.iterations=200 --set postprocess.bias-tuning.iterations=200
both mbv1-w8a8 mse "${vww[@]}" --wbits 8
both mbv1-w4a8 $best "${vww[@]}" --wbits 4 --set optimize.round.iterations=100 --set postprocess.bias-tuning.iterations=100
bin/tinyptq train har-cnn --data har-train --eval har-test --epochs 2 --seed 0 --out "$OUT/har-cnn" --json 2>/dev/null
har=(--model "$OUT/har-cnn" --data har-test --calib-data har-train --abits 8)
both har-w8a8 mse "${har[@]}" --wbits 8
both har-w4a8 $best "${har[@]}" --wbits 4 --set optimize.round.iterations=300
