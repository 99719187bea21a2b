#!/usr/bin/env bash
# Which layer's 3-bit weights cost ResNet-8 most: W3A8, paper/best v2 (activation equalization off) at 2,000
# iterations per unit and 1,024 images of cifar10-train5k, seed 0, with one layer's weights raised to 8 bits at a
# time (label = that layer, "none" = all at 3 bits). One JSON line per run.
# Usage (from the repository root): docs/results/studies/2026-12-full-length-runs/weight-sensitivity.sh > docs/results/studies/2026-12-full-length-runs/weight-sensitivity.jsonl
set -uo pipefail
R=$(mktemp --suffix=.yaml)
trap 'rm -f "$R"' EXIT
for L in none conv2d conv2d_1 conv2d_2 conv2d_3 conv2d_4 conv2d_5 conv2d_6 conv2d_7 conv2d_8 dense; do
  python3 - "$L" > "$R" <<'P'
import sys
layer = sys.argv[1]
s = open('recipes/paper/best.yaml').read()
override = "" if layer == "none" else ", overrides: [{layer: model/%s, weight_bits: 8}]" % layer
s = s.replace("quantization: {weight_bits: 4, activation_bits: 4, input_bits: 8}",
              "quantization: {weight_bits: 3, activation_bits: 8, input_bits: 8%s}" % override)
s = s.replace("iterations: 20000", "iterations: 2000")
s = s.replace("options: {activations: all, activation_strength: 0.25}", "options: {activations: none}")
print(s)
P
  bin/tinyptq run "$R" --model ../shared/models/pretrainedResnet.tflite --data cifar10-test \
    --calib-data cifar10-train5k --calib 1024 --json 2>/dev/null \
    | python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); d["label"]=sys.argv[1]; print(json.dumps(d))' "$L" \
    || echo "run failed: $L" >&2
done
