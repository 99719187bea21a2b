#!/usr/bin/env bash
# Golden outputs of the optimization stage: a fixed set of runs whose results a refactoring must not move.
# One JSON line per run: accuracy, the final per-unit losses as the run printed them, and the SHA-256 of the stored
# model (constants.bin: weights and biases; model.json: graph and quantizer parameters), so "bit-identical" is checked by one comparison.
#   docs/results/golden/golden.sh toy   > docs/results/golden/toy.jsonl      (about 3 minutes)
#   docs/results/golden/golden.sh real  > docs/results/golden/real.jsonl     (ResNet-8, about 10 minutes; ../shared)
#   docs/results/golden/compare.py docs/results/golden/toy.jsonl NEW.jsonl
# TINYPTQ_BIN (default bin/tinyptq) and GOLDEN_DIR (default target/golden) point elsewhere for a frozen build.
set -euo pipefail
BIN=${TINYPTQ_BIN:-bin/tinyptq}
OUT=${GOLDEN_DIR:-target/golden}
mkdir -p "$OUT"

record() { # name, out dir, log: one JSON line
  python3 - "$1" "$2" "$3" <<'PY'
import hashlib, json, re, sys
name, out, log = sys.argv[1:]
report = json.load(open(f"{out}/report.json")) if not name.startswith("train") else {}
losses = [l.strip() for l in open(log, errors="replace").read().replace("\r", "\n").splitlines()
          if re.search(r": loss |loss .* -> |epoch .*loss", l)]
model = out if name.startswith("train") else f"{out}/model"
sha = hashlib.sha256()
for f in ("constants.bin", "model.json"):  # weights and biases; quantizer parameters
    sha.update(open(f"{model}/{f}", "rb").read())
print(json.dumps({"run": name, "accuracy": report.get("accuracy"), "model_sha256": sha.hexdigest(), "losses": losses}))
PY
}

toy() {
  local model=$OUT/toy
  $BIN train toy-cnn --data synthetic-train --eval synthetic-test --out "$model" > "$OUT/train.log" 2>&1
  record train-toy-cnn "$model" "$OUT/train.log"
  local common=(--model "$model" --data synthetic-test --calib-data synthetic-train --calib 256 --wbits 4 --abits 4 --json)
  for recipe in lsq:qparam adaquant:weights adaround:round; do
    local r=${recipe%%:*} p=${recipe##*:}
    for g in layer block model; do
      local dir=$OUT/$r-$g
      $BIN run "$r" "${common[@]}" --set "optimize.$p.granularity=$g" --set "optimize.$p.iterations=300" \
        --out "$dir" > /dev/null 2> "$dir.log"
      record "toy-w4a4-$p-$g" "$dir" "$dir.log"
    done
  done
  run_toy bits-layer bitsplit
  run_toy round-fisher adaround --set optimize.round.iterations=300 --set optimize.round.loss=fisher
  run_toy round-brecq adaround --set optimize.round.iterations=300 --set optimize.round.activations.learning_rate=4e-5 \
    --set optimize.round.activations.qdrop_probability=0.5 --set optimize.round.activations.quantize_output=true
  run_toy round-refine adaround --set optimize.round.iterations=300 --set optimize.round.refine_sweeps=20
  run_toy paper-best recipes/paper/best.yaml --set optimize.round.iterations=300 --set postprocess.bias-tuning.iterations=200
}

run_toy() { # name, recipe, extra args
  local name=$1 recipe=$2; shift 2
  local dir=$OUT/$name
  $BIN run "$recipe" --model "$OUT/toy" --data synthetic-test --calib-data synthetic-train --calib 256 --wbits 4 \
    --abits 4 --json --out "$dir" "$@" > /dev/null 2> "$dir.log"
  record "toy-w4a4-$name" "$dir" "$dir.log"
}

real() {
  local dir=$OUT/resnet8-w4a4-best
  $BIN run recipes/paper/best.yaml --model ../shared/models/pretrainedResnet.tflite --data cifar10-test \
    --calib-data cifar10-train5k --wbits 4 --abits 4 --set optimize.round.iterations=2000 --json --out "$dir" \
    > /dev/null 2> "$dir.log"
  record resnet8-w4a4-paper-best-2000 "$dir" "$dir.log"
}

"${@:?toy, real, or record NAME DIR LOG}"
