"""GetSecretValue calls per second over time for a fleet of workers started together, with
expiry jitter off and at its default.

Per variant, ``--workers`` processes (``worker.py``, the release wheel, HTTPS with
certificate verification through the harness) are started, and once all of them have
imported the package and built their manager they are given one start instant: each reads
for the first time then, and every ``--interval-ms`` after that, for ``--seconds``, with
``ttl=--ttl``. The proxy stamps every GetSecretValue it receives (``GET /__harness/requests``);
the report buckets them by whole seconds since the start. The variants run one after the
other against one harness, each on its own secret. Run through bench/fleet-jitter/run.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Tuple

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from driver import REGION, create_secret, get_secret_value_times, load_average, report, worker_argv  # noqa: E402

DOCUMENT = {"STARFLEET": {"SlackToken": "xoxb-benchmark"}}
#: Seconds between the last worker saying ready and the common first read.
START_MARGIN_S = 1.0


def peak(times: List[float], window: float) -> int:
    """The most calls within any ``window`` seconds (sliding), of ascending ``times``."""
    most, first = 0, 0
    for last, at in enumerate(times):
        while at - times[first] >= window:
            first += 1
        most = max(most, last - first + 1)
    return most


def run_fleet(args: argparse.Namespace, options: Dict[str, Any]) -> Dict[str, Any]:
    """Start the fleet, let it read, return its calls per second and the workers' stats."""
    name = create_secret("fleet", DOCUMENT)
    argv = worker_argv(HERE / "worker.py", name, args, options)
    env = {**os.environ, "AWS_REGION": REGION}
    load_before = load_average()
    workers = [
        subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        for _ in range(args.workers)
    ]
    try:
        for worker in workers:
            assert worker.stdout is not None and worker.stdout.readline().strip() == "ready", "a worker did not start"
        start = time.time() + START_MARGIN_S
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write(f"{start!r}\n")
            worker.stdin.flush()
        stats = []
        for worker in workers:
            out, _ = worker.communicate(timeout=args.seconds + 120)
            if worker.returncode != 0:
                raise SystemExit(f"bench: a worker exited with {worker.returncode}")
            stats.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for worker in workers:
            worker.kill()
            worker.wait()
    load_after = load_average()

    return {
        "times": sorted(at - start for at in get_secret_value_times(name)),
        "fetches": sum(s["fetches"] for s in stats),
        "failures": sum(s["failures"] for s in stats),
        "load": f"{load_before} → {load_after}",
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=90)
    ap.add_argument("--ttl", type=float, default=10)
    ap.add_argument("--interval-ms", type=float, default=100)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--command", required=True)
    args = ap.parse_args()

    variants: List[Tuple[str, Dict[str, Any]]] = [
        ("expiry_jitter=0", {"expiry_jitter": 0}),
        ("default (expiry_jitter 0.1)", {}),
    ]
    results = [(label, run_fleet(args, options)) for label, options in variants]
    for _, r in results:
        r["series"] = [0] * math.ceil(args.seconds)
        for at in r["times"]:
            if 0 <= at < len(r["series"]):
                r["series"][int(at)] += 1

    # The first loads happen together whatever the jitter (the fleet starts at one instant);
    # refreshes start one TTL (less up to the jitter) later. So "refreshes" = from half a TTL on.
    refreshes_from = args.ttl / 2
    lines = [
        "# GetSecretValue calls per second: a fleet started together, with and without expiry jitter",
        "",
        f"Command: `{args.command}` ({platform.machine()}, {os.cpu_count()} cores; generated "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}).",
        "",
        f"Per variant, {args.workers} worker processes (the release wheel, HTTPS with certificate verification "
        f"through the harness) with `ttl={args.ttl:g}` read for the first time at one instant, then each every "
        f"{args.interval_ms:g} ms (at a phase of its own) for {args.seconds:g} s. Second *n* counts the "
        "GetSecretValue calls the proxy received between *n* and *n*+1 s after that instant. The variants ran "
        "one after the other.",
        "",
        f"Peaks are the most calls within any 1 s (or 100 ms) window, sliding; \"refreshes\" leaves out the "
        f"first {refreshes_from:g} s, where every worker's first load falls whatever the jitter.",
        "",
        "| variant | GetSecretValue calls | peak calls/s | peak calls/s, refreshes | peak calls/100 ms, refreshes "
        "| seconds with a call | failures | load average (1, 5, 15 min) before → after |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for label, r in results:
        times, series = r["times"], r["series"]
        later = [at for at in times if at >= refreshes_from]
        lines.append(
            f"| {label} | {len(times)} | {peak(times, 1.0)} | {peak(later, 1.0)} | {peak(later, 0.1)} | "
            f"{sum(1 for n in series if n)} | {r['failures']} | {r['load']} |"
        )
    # Refresh cycle k (k >= 1) = the TTL-wide window centred on k TTLs after the start.
    cycles = range(1, int((args.seconds - refreshes_from) // args.ttl) + 1)
    lines += [
        "",
        "Peak calls/s (sliding 1 s window) in each refresh cycle, cycle *k* being the window of one TTL "
        f"centred on *k* × {args.ttl:g} s:",
        "",
        "| variant | " + " | ".join(str(k) for k in cycles) + " |",
        "| --- | " + " | ".join("---:" for _ in cycles) + " |",
    ]
    for label, r in results:
        peaks = []
        for k in cycles:
            low, high = (k - 0.5) * args.ttl, (k + 0.5) * args.ttl
            peaks.append(str(peak([at for at in r["times"] if low <= at < high], 1.0)))
        lines.append(f"| {label} | " + " | ".join(peaks) + " |")
    lines += [
        "",
        "Calls per second over time:",
        "",
        "| second | " + " | ".join(label for label, _ in results) + " |",
        "| ---: | " + " | ".join("---" for _ in results) + " |",
    ]
    for second in range(len(results[0][1]["series"])):
        cells = []
        for _, r in results:
            n = r["series"][second]
            cells.append(f"{n} {'#' * n}" if n else "")
        lines.append(f"| {second} | " + " | ".join(cells) + " |")
    report(args.out, lines)


if __name__ == "__main__":
    main()
