#!/usr/bin/env python3
"""Turns a JMH JSON result (java -jar target/benchmarks.jar ... -rf json -rff FILE) into the BENCHMARKS.md tables.

FLOPs count 2 per multiply-accumulate. Forward: 2*MACs; forward+backward: 3 * 2*MACs (the input gradient and the
weight gradient each cost as many MACs as the forward; bias gradients and padding copies are not counted).
Layer shapes mirror src/main/java/io/tinyptq/benchmarks/Layers.java (batch 32, SAME padding)."""
import json
import math
import sys

# name: (depthwise, batch, h, w, cin, cout, k, stride)
LAYERS = {
    "RESNET8_CONV_16_16_32x32": (False, 32, 32, 32, 16, 16, 3, 1),
    "RESNET8_CONV_16_32_S2_32x32": (False, 32, 32, 32, 16, 32, 3, 2),
    "RESNET8_CONV_32_32_16x16": (False, 32, 16, 16, 32, 32, 3, 1),
    "RESNET8_CONV_32_64_S2_16x16": (False, 32, 16, 16, 32, 64, 3, 2),
    "RESNET8_CONV_64_64_8x8": (False, 32, 8, 8, 64, 64, 3, 1),
    "DSCNN_DEPTHWISE_64_25x5": (True, 32, 25, 5, 64, 64, 3, 1),
    "DSCNN_POINTWISE_64_64_25x5": (False, 32, 25, 5, 64, 64, 1, 1),
    "MOBILENET_CONV_3_8_S2_96x96": (False, 32, 96, 96, 3, 8, 3, 2),
    "MOBILENET_DEPTHWISE_8_48x48": (True, 32, 48, 48, 8, 8, 3, 1),
    "MOBILENET_POINTWISE_8_16_48x48": (False, 32, 48, 48, 8, 16, 1, 1),
}
PEAK_PER_CORE = float(sys.argv[2]) if len(sys.argv) > 2 else 110.0


def macs(name):
    dw, n, h, w, cin, cout, k, s = LAYERS[name]
    out = n * math.ceil(h / s) * math.ceil(w / s) * cout
    return out * (k * k if dw else k * k * cin)


def main():
    results = json.load(open(sys.argv[1]))
    table = {}
    ada = {}
    for r in results:
        bench = r["benchmark"].rsplit(".", 1)[1]
        p = r.get("params", {})
        ms = r["primaryMetric"]["score"]
        err = r["primaryMetric"]["scoreError"]
        t = int(p["threads"])
        if bench == "iteration":
            ada[t] = (ms, err)
            continue
        table.setdefault(p["layer"], {})[(bench, t)] = ms
    print("| layer | MFLOP fwd | fwd 1T GFLOP/s | fwd 2T GFLOP/s | fwd+bwd 1T GFLOP/s | fwd+bwd 2T GFLOP/s | "
          "fwd 1T / peak | fwd 2T / peak(2 cores) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name in LAYERS:
        if name not in table:
            continue
        f = 2 * macs(name)
        row = table[name]

        def g(bench, t, mult):
            ms = row.get((bench, t))
            return f * mult / (ms * 1e-3) / 1e9 if ms else float("nan")

        f1, f2 = g("forward", 1, 1), g("forward", 2, 1)
        b1, b2 = g("forwardBackward", 1, 3), g("forwardBackward", 2, 3)
        print(f"| {name} | {f / 1e6:.1f} | {f1:.1f} | {f2:.1f} | {b1:.1f} | {b2:.1f} | "
              f"{f1 / PEAK_PER_CORE:.2f} | {f2 / (2 * PEAK_PER_CORE):.2f} |")
    print()
    print("| layer | fwd 1T ms | fwd 2T ms | fwd+bwd 1T ms | fwd+bwd 2T ms |")
    print("|---|---:|---:|---:|---:|")
    for name in LAYERS:
        if name in table:
            row = table[name]
            print(f"| {name} | {row.get(('forward', 1), float('nan')):.3f} | {row.get(('forward', 2), float('nan')):.3f} | "
                  f"{row.get(('forwardBackward', 1), float('nan')):.3f} | {row.get(('forwardBackward', 2), float('nan')):.3f} |")
    for t in sorted(ada):
        print(f"\nAdaRound iteration, {t} thread(s): {ada[t][0]:.3f} ± {ada[t][1]:.3f} ms")


if __name__ == "__main__":
    main()
