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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from driver import worker_manager  # noqa: E402


def sleep_until(instant: float) -> None:
    pause = instant - time.time()
    if pause > 0:
        time.sleep(pause)


def main() -> None:
    args, manager = worker_manager(argparse.ArgumentParser())
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
