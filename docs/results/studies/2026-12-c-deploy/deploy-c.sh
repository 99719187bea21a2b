#!/usr/bin/env bash
# Sub-8-bit C on the host and a Cortex-M4: each model quantized under target tflite (W8A8 with MSE initialization,
# the sub-8-bit widths with the paper's best pipeline, recipe paper/best at ITER iterations per unit), exported as C
# (export --format c), built with gcc and checked against the integer runtime on the test set (verify --target
# host), then built with arm-none-eabi-gcc and run under QEMU on the first samples (verify --target cortex-m4).
# JSON lines of verify --json on standard output, the export summaries on standard error.
# PHASE=quantize runs only the quantization (the slow part, independent of the C runtime), PHASE=verify only the
# export and the checks of models quantized before; PHASE=all (the default) both.
# Usage (from the repository root, after ./mvnw -q install -DskipTests, ../shared present):
#   HOST_LIMIT=0 M4_LIMIT=200 BITS="8 4 3 2" MODELS="resnet8 dscnn mbv1 har" docs/results/studies/2026-12-c-deploy/deploy-c.sh \\
#     > docs/results/studies/2026-12-c-deploy/deploy-c.jsonl
set -uo pipefail
S=../shared
OUT=${OUT:-target/deploy-c}
HOST_LIMIT=${HOST_LIMIT:-0}
M4_LIMIT=${M4_LIMIT:-200}
BITS=${BITS:-8 4 3 2}    # W8A8, W4A4, W3A3, W2A2
MODELS=${MODELS:-resnet8 dscnn mbv1 har}
ITER=${ITER:-2000}
PHASE=${PHASE:-all}
mkdir -p "$OUT"
recipe() {  # BITS: the recipe and its settings at that bit-width
  if [ "$1" = 8 ]; then echo mse; else echo "paper/best --set optimize.round.iterations=$ITER"; fi
}
one() {  # NAME DATA WBITS ABITS RUN-ARGS...
  local name=$1 data=$2 w=$3 a=$4; shift 4
  if [ "$PHASE" != verify ]; then
    # shellcheck disable=SC2046
    bin/tinyptq run $(recipe "$w") "$@" --wbits "$w" --abits "$a" --set quantization.target=tflite \
      --out "$OUT/$name" --json > "$OUT/$name.run.json" 2>/dev/null || { echo "run failed: $name" >&2; return; }
  fi
  [ "$PHASE" = quantize ] && return
  bin/tinyptq export "$OUT/$name/model" -o "$OUT/$name-c" --format c >&2
  for t in host:$HOST_LIMIT cortex-m4:$M4_LIMIT; do
    bin/tinyptq verify "$OUT/$name-c" --data "$data" --target "${t%%:*}" --limit "${t##*:}" --json --no-progress \
      | sed "s/^{/{\"name\": \"$name\", /"
  done
}
r8=(--model $S/models/pretrainedResnet.tflite --data cifar10-test --calib-data cifar10-train5k)
kws=(--model $S/models/kws_ref_model_float32.tflite --data kws-rest --calib-data kws-calibration --calib 120)
vww=(--model $S/models/vww_96_float.tflite --data vww01-rest --calib-data vww01-calibration --calib 100)
has() { [[ " $MODELS " == *" $1 "* ]]; }
if has har && [ "$PHASE" != verify ]; then
  bin/tinyptq train har-cnn --data har-train --eval har-test --epochs 2 --seed 0 --out "$OUT/har-cnn" --json > /dev/null 2>&1
fi
har=(--model "$OUT/har-cnn" --data har-test --calib-data har-train)
for b in $BITS; do
  # ResNet-8 takes CLE without the activation equalization (recipes/paper/best.yaml says why).
  r8cle=(); [ "$b" != 8 ] && r8cle=(--set preprocess.cle.activations=none)
  has resnet8 && one resnet8-w${b}a$b cifar10-test "$b" "$b" "${r8[@]}" "${r8cle[@]}"
  has dscnn && one dscnn-w${b}a$b kws-rest "$b" "$b" "${kws[@]}"
  has mbv1 && one mbv1-w${b}a$b vww01-rest "$b" "$b" "${vww[@]}"
  has har && one har-w${b}a$b har-test "$b" "$b" "${har[@]}"
done
