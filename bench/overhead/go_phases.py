#!/usr/bin/env python3
"""Wall-time phases of a cold start from `perf trace` (syscalls with timestamps), per row.

    go_phases.py ROW=DIR [ROW=DIR ...]

Each DIR holds `*.txt` files, `perf trace` output of one whole run each (bench/overhead/go-start
trace). The phases are marked by the process's own system calls: the read of the root bundle
(the one read over 200 KB), the connect() to the endpoint, the first write on that socket (the
ClientHello), the first read (the server's handshake flight), the request (the last write),
the answer (the last read: its last record) and exit_group. Prints, per row, the median
time since exec of each mark and the median step from the mark before: what is the process's
(start-up, trust store, building the request) and what is the server's (its handshake, its
answer), on the same clock.
"""

from __future__ import annotations

import re
import statistics
import sys
from pathlib import Path
from typing import Dict, List, Optional

EVENT = re.compile(r"\s*([\d.]+) \(.*?\): \S+/\d+ (\w+)\((.*)\)\s+= (-?\d+)")
MARKS = ["root bundle read", "connect", "ClientHello sent", "server handshake read",
         "request sent", "answer read", "exit"]


def marks(path: Path) -> Optional[Dict[str, float]]:
    events = []
    exit_at = None
    for line in path.read_text(errors="replace").splitlines():
        if "exit_group" in line and line.strip()[:1].isdigit():
            exit_at = float(line.split()[0])
        m = EVENT.match(line)
        if m:
            events.append((float(m.group(1)), m.group(2), m.group(3), int(m.group(4))))
    connects = [e for e in events if e[1] == "connect"]
    if not connects or exit_at is None:
        return None
    t0, _, args, _ = connects[-1]  # the endpoint's (no other connection is made)
    fd = re.search(r"fd: (\d+)", args).group(1)
    net = [e for e in events if e[0] >= t0 and re.match(rf"fd: {fd}\b", e[2]) and e[3] > 0]
    sends = [e for e in net if e[1] in ("write", "writev", "sendto", "sendmsg")]
    reads = [e for e in net if e[1] in ("read", "recvfrom", "recvmsg")]
    bundle = [e[0] for e in events if e[1] == "read" and e[3] > 200_000]
    if not sends or not reads or not bundle:
        return None
    request = max(e[0] for e in sends)
    return {
        "root bundle read": bundle[0],
        "connect": t0,
        "ClientHello sent": sends[0][0],
        "server handshake read": reads[0][0],
        "request sent": request,
        "answer read": max(e[0] for e in reads),
        "exit": exit_at,
    }


def main() -> int:
    for spec in sys.argv[1:]:
        name, _, directory = spec.partition("=")
        runs: List[Dict[str, float]] = [m for m in map(marks, sorted(Path(directory).glob("*.txt"))) if m]
        print(f"\n{name} ({len(runs)} runs): ms since exec, median; step from the mark before\n")
        print("| mark | ms | step |")
        print("| --- | ---: | ---: |")
        for i, mark in enumerate(MARKS):
            at = statistics.median(r[mark] for r in runs)
            step = "" if i == 0 else f"+{statistics.median(r[mark] - r[MARKS[i - 1]] for r in runs):.2f}"
            print(f"| {mark} | {at:.2f} | {step} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
