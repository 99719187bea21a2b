#!/usr/bin/env python3
"""Tables of docs/results/figure4.jsonl (tinyptq run --json lines), as Markdown on standard output."""
import json
import sys
from collections import defaultdict

rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip().startswith("{")]
by_model = defaultdict(list)
for r in rows:
    by_model[r["model"]].append(r)
for model, rs in by_model.items():
    recipes = sorted({r["recipe"] for r in rs})
    bits = sorted({r["weight_bits"] for r in rs}, reverse=True)
    fp = rs[0]["fp_accuracy"]
    print(f"### {model} on {rs[0]['dataset']} ({rs[0]['samples']} samples), FP {fp:.2f} %\n")
    print("| recipe | " + " | ".join(f"W{b}A{b}" for b in bits) + " |")
    print("|---|" + "---:|" * len(bits))
    for rec in recipes:
        cells = []
        for b in bits:
            hit = [r for r in rs if r["recipe"] == rec and r["weight_bits"] == b]
            cells.append(f"{hit[0]['accuracy']:.2f}" if hit else "")
        print(f"| {rec} | " + " | ".join(cells) + " |")
    print()
