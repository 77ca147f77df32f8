"""Read latency with and without refresh-ahead while every GetSecretValue takes 1 s.

Worker processes (``worker.py``, the release wheel) run at the same time against one
harness, each on its own secret, through the HTTPS listener with certificate verification:
one with the defaults, one per ``refresh_ahead`` fraction asked for, and one boto3 worker
(``worker_boto3.py``: ``get_secret_value`` with the document kept for the TTL, what a worker
without this package does). Every setting not named is the default: no attempt-timeout or
other tuning variable is set. The proxy's ``delay`` fault holds every
GetSecretValue of both secrets for ``--delay-ms`` before forwarding it. Each worker reads
for ``--seconds`` with ``ttl=--ttl``; the report gives, per variant, the read latency
percentiles (the call's own duration, and the time since the read fell due), the reads over
100 ms, and the GetSecretValue calls the proxy saw. Run through bench/refresh-ahead/run.
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
from driver import REGION, control, create_secret, get_secret_value_times, load_average, report, worker_argv  # noqa: E402

SLOW_S = 0.100
BOTO3 = "boto3, document kept for the TTL"
DOCUMENT = {"STARFLEET": {"SlackToken": "xoxb-benchmark"}}


def percentile(sorted_values: List[float], p: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def summary(values: List[float]) -> Dict[str, float]:
    ordered = sorted(values)
    return {
        "p50": percentile(ordered, 50),
        "p99": percentile(ordered, 99),
        "p99.9": percentile(ordered, 99.9),
        "max": ordered[-1],
        "slow": sum(1 for v in ordered if v > SLOW_S),
    }


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.3f}" if seconds < 0.01 else f"{seconds * 1000:.1f}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=120)
    ap.add_argument("--ttl", type=float, default=5)
    ap.add_argument("--delay-ms", type=float, default=1000)
    ap.add_argument(
        "--refresh-ahead",
        default="0.8,0.5",
        help="comma-separated fractions, one worker each beside the one with the defaults",
    )
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--interval-ms", type=float, default=20)
    ap.add_argument(
        "--boto3-python",
        type=Path,
        default=HERE.parents[1] / ".venv" / "bin" / "python",
        help="a Python with boto3 for the boto3 worker (the harness's venv)",
    )
    ap.add_argument("--out", type=Path)
    ap.add_argument("--command", required=True)
    args = ap.parse_args()

    variants: List[Tuple[str, Dict[str, Any]]] = [
        ("defaults (no refresh-ahead)", {}),
        *((f"refresh_ahead={f:g}", {"refresh_ahead": f}) for f in map(float, args.refresh_ahead.split(","))),
        (BOTO3, {}),
    ]
    # The workers' environment: the harness's endpoint and CA bundle, nothing tuned.
    env = {k: v for k, v in os.environ.items() if not k.startswith("STARFLEET_SECRETS_")}
    env["AWS_REGION"] = REGION
    load_before = load_average()
    runs = []
    for label, options in variants:
        name = create_secret("refresh-ahead", DOCUMENT)
        control("POST", "faults", {"secret_id": name, "action": "delay", "delay_ms": args.delay_ms, "times": 0})
        argv = [*worker_argv(HERE / "worker.py", name, args, options), f"--threads={args.threads}"]
        if label == BOTO3:
            argv[:2] = [str(args.boto3_python), str(HERE / "worker_boto3.py")]
        child = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, env=env)
        runs.append((label, options, name, child))
    rows = []
    for label, options, name, child in runs:
        out, _ = child.communicate(timeout=args.seconds + 120)
        if child.returncode != 0:
            raise SystemExit(f"bench: worker {label!r} exited with {child.returncode}")
        result = json.loads(out.strip().splitlines()[-1])
        control("DELETE", f"faults?secret_id={name}")
        rows.append(
            {
                "label": label,
                "reads": len(result["durations"]),
                "first_load": result["first_load"],
                "duration": summary(result["durations"]),
                "since_due": summary(result["since_due"]),
                "calls": len(get_secret_value_times(name)),
                "stats": result["stats"],
            }
        )
    load_after = load_average()

    reads_per_s = args.threads * 1000 / args.interval_ms
    lines = [
        "# Read latency with and without refresh-ahead (1 s fetches)",
        "",
        f"Command: `{args.command}` ({platform.machine()}, {os.cpu_count()} cores; generated "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; load average before {load_before}, after {load_after}).",
        "",
        f"{len(variants)} worker processes at the same time, each reading its own secret over the harness's "
        f"HTTPS listener (certificate verification on) for {args.seconds:g} s with `ttl={args.ttl:g}`, "
        f"{args.threads} threads each reading `secrets[\"STARFLEET\"][\"SlackToken\"]` every "
        f"{args.interval_ms:g} ms ({reads_per_s:g} reads/s): the release wheel with its defaults and with "
        "`refresh_ahead`, and boto3 (`get_secret_value`, the document kept for the TTL behind one lock, as a "
        "worker without this package does). No tuning variable is set. The proxy delays every GetSecretValue by "
        f"{args.delay_ms:g} ms. The first load (one fetch, before the loop) is not counted among the reads.",
        "",
        "**Call duration** (how long each read call took), in ms:",
        "",
        "| variant | reads | p50 | p99 | p99.9 | max | reads over 100 ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        d = row["duration"]
        lines.append(
            f"| {row['label']} | {row['reads']} | {ms(d['p50'])} | {ms(d['p99'])} | {ms(d['p99.9'])} | "
            f"{ms(d['max'])} | {d['slow']} |"
        )
    lines += [
        "",
        "**Time since the read fell due** (each thread's reads are due on a fixed schedule; a read that fell due "
        "while its thread was stuck in an earlier one waits for it too, as a request arriving at a busy worker "
        "does), in ms:",
        "",
        "| variant | p50 | p99 | p99.9 | max | reads over 100 ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        d = row["since_due"]
        lines.append(f"| {row['label']} | {ms(d['p50'])} | {ms(d['p99'])} | {ms(d['p99.9'])} | {ms(d['max'])} | {d['slow']} |")
    lines += [
        "",
        "| variant | first load | GetSecretValue calls (proxy) | worker stats |",
        "| --- | ---: | ---: | --- |",
    ]
    for row in rows:
        stats = row["stats"]
        shown = ", ".join(
            f"{key} {stats[key]}"
            for key in ("fetches", "refreshes_ahead", "failures", "hedges", "misses")
            if key in stats
        )
        lines.append(f"| {row['label']} | {row['first_load'] * 1000:.0f} ms | {row['calls']} | {shown} |")
    report(args.out, lines)


if __name__ == "__main__":
    main()
