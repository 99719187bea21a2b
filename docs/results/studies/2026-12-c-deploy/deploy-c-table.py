#!/usr/bin/env python3
"""The table of docs/results/studies/2026-12-c-deploy.md from deploy-c.sh's outputs.

Usage: docs/results/studies/2026-12-c-deploy/deploy-c-table.py OUT-DIR VERIFY.jsonl [VERIFY2.jsonl ...]
OUT-DIR holds NAME.run.json (run --json) and NAME-c/manifest.json (export --format c) for each NAME in the JSON lines.
"""
import json
import sys

out, files = sys.argv[1], sys.argv[2:]
rows = {}
for f in files:
    for line in open(f):
        if line.strip():
            v = json.loads(line)
            rows.setdefault(v["name"], {})[v["target"]] = v
MODELS = {"resnet8": "ResNet-8", "dscnn": "DS-CNN", "mbv1": "MobileNetV1-0.25", "har": "HAR CNN"}
print("| model | bits | simulation | TFLite Micro (rounding twice) | C (rounding once) | host: identical / samples"
      " | Cortex-M4: identical / samples | constants B | arena B | C total B | paper-style estimate B"
      " | FP32 estimate B | ELF flash B | ELF RAM B | instructions / inference |")
print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
order = [m + "-w" + b + "a" + b for m in MODELS for b in "8432"]
for name in [n for n in order if n in rows]:
    run = json.load(open(f"{out}/{name}.run.json"))
    man = json.load(open(f"{out}/{name}-c/manifest.json"))
    h, m = rows[name].get("host", {}), rows[name].get("cortex-m4", {})
    model, bits = name.rsplit("-", 1)
    const, arena = man["constant_bytes"], man["arena_bytes"]
    print(f"| {MODELS[model]} | {bits.upper()} | {run['integer']['simulated_accuracy']:.2f} | {run['accuracy']:.2f}"
          f" | {h.get('accuracy', float('nan')):.2f} | {h.get('identical_samples', 0):,} / {h.get('samples', 0):,}"
          f" | {m.get('identical_samples', 0):,} / {m.get('samples', 0):,} | {const:,} | {arena:,} | {const + arena:,}"
          f" | {run['memory_bits'] // 8:,} | {run['fp_memory_bits'] // 8:,} | {m.get('flash_bytes', -1):,}"
          f" | {m.get('ram_bytes', -1):,} | {m.get('instructions_per_inference', 0) / 1e6:.1f} M |")
