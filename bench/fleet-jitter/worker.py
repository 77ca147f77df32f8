"""One worker process of bench/fleet-jitter: imports the package, builds its manager, prints
``ready``, then waits for a start time (Unix seconds) on stdin, so that every worker of the
fleet reads for the first time at the same instant, as workers started by one deploy do.
From then on it reads ``secrets["STARFLEET"]["SlackToken"]`` every ``--interval-ms`` (at a
phase of its own: requests reach each worker at their own times) until ``--seconds`` have
passed, and prints its stats as one JSON line.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time

import starfleet_secrets


def sleep_until(instant: float) -> None:
    pause = instant - time.time()
    if pause > 0:
        time.sleep(pause)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--name", required=True)
    ap.add_argument("--region", required=True)
    ap.add_argument("--ttl", type=float, required=True)
    ap.add_argument("--seconds", type=float, required=True)
    ap.add_argument("--interval-ms", type=float, required=True)
    ap.add_argument("--options", default="{}", help="extra SecretsManager keyword arguments, as JSON")
    args = ap.parse_args()

    manager = starfleet_secrets.SecretsManager(
        secret_id=args.name, region=args.region, ttl=args.ttl, **json.loads(args.options)
    )
    print("ready", flush=True)
    start = float(sys.stdin.readline())
    end = start + args.seconds
    interval = args.interval_ms / 1000

    sleep_until(start)
    due = start + random.uniform(0, interval)
    assert manager.secrets["STARFLEET"]["SlackToken"]
    while due < end:
        sleep_until(due)
        assert manager.secrets["STARFLEET"]["SlackToken"]
        due += interval
    stats = manager.stats()
    print(json.dumps({k: stats.get(k) for k in ("fetches", "failures", "hits")}), flush=True)


if __name__ == "__main__":
    main()
