#!/usr/bin/env python3
"""Compares two golden files run by run: identical constants, or the accuracy difference and the first loss that moved."""
import json, sys

old = {r["run"]: r for r in map(json.loads, open(sys.argv[1]))}
new = {r["run"]: r for r in map(json.loads, open(sys.argv[2]))}
moved = 0
for name, o in old.items():
    n = new.get(name)
    if n is None:
        print(f"{name}: missing"); moved += 1; continue
    if o["model_sha256"] == n["model_sha256"] and o["accuracy"] == n["accuracy"]:
        print(f"{name}: bit-identical"); continue
    moved += 1
    diff = next(((a, b) for a, b in zip(o["losses"], n["losses"]) if a != b), None)
    acc = "" if o["accuracy"] is None else f" accuracy {o['accuracy']:.2f} -> {n['accuracy']:.2f}"
    print(f"{name}: model differs;{acc}; first loss moved: {diff}")
sys.exit(1 if moved else 0)
