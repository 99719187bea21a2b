#!/usr/bin/env python3
"""docs/results/studies/2026-11-table2-500-iterations/table2.jsonl (tinyptq run --json lines) as Markdown, next to the paper's Table 2."""
import json
import sys

PAPER = {  # Zhuo et al. 2022, Table 2: (Res8, DS-CNN) per bit-width and variable
    (4, "qparam"): (84.61, 83.31), (4, "weights"): (85.91, 88.41), (4, "bits"): (85.33, 87.88), (4, "round"): (85.34, 88.33),
    (3, "qparam"): (74.30, 29.58), (3, "weights"): (82.62, 63.99), (3, "bits"): (81.81, 63.95), (3, "round"): (83.21, 75.22),
    (2, "qparam"): (25.26, 9.16), (2, "weights"): (62.81, 8.83), (2, "bits"): (63.72, 8.77), (2, "round"): (69.40, 9.42),
}
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip().startswith("{")]
get = {}
for r in rows:
    var = r["recipe"].split("best-")[-1]
    key = (r["weight_bits"], var, "res" if "Resnet" in r["model"] else "kws")
    get[key] = r
fp = {("res" if "Resnet" in r["model"] else "kws"): r["fp_accuracy"] for r in rows}
print(f"| W/A | variable | ResNet-8 (ours) | ResNet-8 (paper) | DS-CNN (ours) | DS-CNN (paper) |")
print("|---|---|---:|---:|---:|---:|")
print(f"| 32/32 | full precision | {fp.get('res', 0):.2f} | 86.75 | {fp.get('kws', 0):.2f} | 93.03 |")
for bits in (4, 3, 2):
    for var in ("qparam", "weights", "bits", "round"):
        ours = [get.get((bits, var, m)) for m in ("res", "kws")]
        cell = [f"{o['accuracy']:.2f}" if o else "" for o in ours]
        p = PAPER[(bits, var)]
        print(f"| {bits}/{bits} | opt_{var} | {cell[0]} | {p[0]:.2f} | {cell[1]} | {p[1]:.2f} |")
