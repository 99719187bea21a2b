#!/usr/bin/env python3
"""Prints activation-diag.jsonl as one table per model: accuracy with each layer's input raised to 8 bits."""
import json
import sys

rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
for model in dict.fromkeys(r["model"] for r in rows):
    runs = [r for r in rows if r["model"] == model]
    base = next(r["accuracy"] for r in runs if r["label"] == "all-3-bit")
    print(f"\n{model} on {runs[0]['dataset']} ({runs[0]['samples']} samples), FP {runs[0]['fp_accuracy']:.2f} %, "
          f"W8A3 {base:.2f} %\n")
    print("| input raised to 8 bits | accuracy | gain |")
    print("|---|---:|---:|")
    for r in runs:
        if r["label"] != "all-3-bit":
            print(f"| {r['label']} | {r['accuracy']:.2f} | {r['accuracy'] - base:+.2f} |")
