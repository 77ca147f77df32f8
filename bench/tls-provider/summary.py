#!/usr/bin/env python3
"""Summarise bench/go/measure samples for bench/tls-provider/run as a Markdown table.

Input lines: "NAME<TAB>wall_ms<TAB>peak_rss_kib<TAB>user_ms<TAB>sys_ms", one per run. Prints per
row the medians (wall with min–max, user CPU, system CPU, peak RSS) in input order.
"""

from __future__ import annotations

import statistics
import sys
from collections import defaultdict


def main() -> int:
    samples: dict[str, list[tuple[float, ...]]] = defaultdict(list)
    for line in sys.stdin:
        name, *values = line.rstrip("\n").split("\t")
        samples[name].append(tuple(float(v) for v in values))
    runs = min(len(s) for s in samples.values())
    print(f"{runs} runs per row, interleaved; medians\n")
    print("| build, roots | wall ms (min–max) | user CPU ms | system CPU ms | peak RSS MiB |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, rows in samples.items():
        wall, rss, user, system = zip(*rows)
        print(f"| {name} | {statistics.median(wall):.1f} ({min(wall):.1f}–{max(wall):.1f}) "
              f"| {statistics.median(user):.1f} | {statistics.median(system):.1f} "
              f"| {statistics.median(rss) / 1024:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
