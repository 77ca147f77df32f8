#!/usr/bin/env python3
"""Summarise cold-start samples from bench/go/measure as a Markdown table.

    measure RUNS NAME=PROGRAM ... | python bench/go/bench.py --baseline aws-sdk-go-v2

Input lines are "NAME<TAB>wall_ms<TAB>peak_rss_kib" (one per run). Prints, per program,
the median wall time and peak RSS with their min–max, and the ratio of the medians to
the baseline's.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections import defaultdict


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--baseline", required=True)
    args = parser.parse_args()
    wall: dict[str, list[float]] = defaultdict(list)
    rss: dict[str, list[float]] = defaultdict(list)
    for line in sys.stdin:
        name, w, r = line.rstrip("\n").split("\t")
        wall[name].append(float(w))
        rss[name].append(int(r) / 1024)
    if args.baseline not in wall:
        sys.exit(f"no samples for baseline {args.baseline}")
    base_w = statistics.median(wall[args.baseline])
    base_r = statistics.median(rss[args.baseline])
    runs = len(wall[args.baseline])
    print(f"{runs} runs per program, interleaved; medians; ratios against {args.baseline}\n")
    print("| program | wall median (ms) | wall min–max | × wall | peak RSS median (MiB) | RSS min–max | × RSS |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name in wall:
        w, r = wall[name], rss[name]
        wm, rm = statistics.median(w), statistics.median(r)
        print(
            f"| {name} | {wm:.1f} | {min(w):.1f}–{max(w):.1f} | {wm / base_w:.2f} "
            f"| {rm:.1f} | {min(r):.1f}–{max(r):.1f} | {rm / base_r:.2f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
