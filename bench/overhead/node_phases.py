#!/usr/bin/env python3
"""One row of bench/overhead/node-addons' phase table: LABEL FILE, FILE holding the lines
`REQUIRE_MS GET_MS LIBRARY_THREADS_MS` of bench/overhead/node-phases.js; prints medians (quartiles)."""

import statistics
import sys


def cell(values):
    q1, _, q3 = statistics.quantiles(values, n=4)
    return f"{statistics.median(values):.2f} ({q1:.2f}–{q3:.2f})"


label, path = sys.argv[1], sys.argv[2]
with open(path, encoding="utf-8") as f:
    rows = [tuple(map(float, line.split())) for line in f if line.strip()]
print(f"| {label} | " + " | ".join(cell(list(c)) for c in zip(*rows)) + " |")
