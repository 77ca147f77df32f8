#!/usr/bin/env python3
"""Summarise cold-start samples from bench/go/measure as a Markdown table.

    measure RUNS "NAME TRANSPORT=PROGRAM ..." ... | python bench/go/bench.py --baseline aws-sdk-go-v2

Input lines are "NAME TRANSPORT<TAB>wall_ms<TAB>peak_rss_kib<TAB>user_ms<TAB>sys_ms" (one per run; TRANSPORT is
HTTPS or HTTP, or absent for context rows such as /bin/true). Prints one row per program:
per transport the median wall time (min–max) and peak RSS, with the ratios of the medians to
the baseline's over the same transport; then each program's HTTPS − HTTP difference in wall
time and in user CPU.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections import defaultdict

TRANSPORTS = ("HTTPS", "HTTP")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--baseline", required=True)
    args = parser.parse_args()
    wall: dict[tuple[str, str], list[float]] = defaultdict(list)
    rss: dict[tuple[str, str], list[float]] = defaultdict(list)
    user: dict[tuple[str, str], list[float]] = defaultdict(list)
    programs: dict[str, None] = {}
    for line in sys.stdin:
        label, w, r, u, _sys = line.rstrip("\n").split("\t")
        name, _, transport = label.partition(" ")
        programs[name] = None
        wall[(name, transport)].append(float(w))
        rss[(name, transport)].append(int(r) / 1024)
        user[(name, transport)].append(float(u))
    if (args.baseline, "HTTPS") not in wall:
        sys.exit(f"no HTTPS samples for baseline {args.baseline}")
    runs = len(wall[(args.baseline, "HTTPS")])
    print(f"{runs} runs per program and transport, interleaved; medians; ratios against {args.baseline} "
          "over the same transport\n")
    print("| program | HTTPS wall ms (min–max) | × wall | HTTPS peak RSS MiB | × RSS "
          "| HTTP wall ms (min–max) | × wall | HTTP peak RSS MiB | × RSS |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name in programs:
        cells = []
        for transport in TRANSPORTS:
            key = (name, transport) if (name, transport) in wall else (name, "")
            w, r = wall[key], rss[key]
            wm, rm = statistics.median(w), statistics.median(r)
            bw = statistics.median(wall[(args.baseline, transport)])
            br = statistics.median(rss[(args.baseline, transport)])
            cells.append(f"{wm:.1f} ({min(w):.1f}–{max(w):.1f}) | {wm / bw:.2f} | {rm:.1f} | {rm / br:.2f}")
        print(f"| {name} | " + " | ".join(cells) + " |")
    print()
    for name in programs:
        if (name, "HTTPS") in wall and (name, "HTTP") in wall:
            dw, du = (statistics.median(m[(name, "HTTPS")]) - statistics.median(m[(name, "HTTP")])
                      for m in (wall, user))
            print(f"- {name}: HTTPS − HTTP = {dw:+.1f} ms wall, {du:+.1f} ms user CPU (medians)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
