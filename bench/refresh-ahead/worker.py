"""One worker process of bench/refresh-ahead: a threaded worker reading the secret the way a
Starfleet worker does (``manager.secrets["STARFLEET"]["SlackToken"]``), at a steady rate.

Each thread schedules a read every ``--interval-ms`` (read k at start + k * interval) and
records two times per read: the call's own duration, and the time from when the read was
due to when it returned. The second counts the wait of reads that fell due while the thread
was blocked in an earlier read (a request that arrived during a fetch waits for it too), so
one 1 s stall is seen by every read it delayed, not only by the one that waited for it.
The first load happens before the loop and is reported apart. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Dict, List

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from driver import worker_manager  # noqa: E402


def measure(args: argparse.Namespace, read: Callable[[], str], stats: Callable[[], Dict[str, Any]]) -> None:
    """The first load, then ``args.threads`` threads reading on their schedules; prints the JSON line."""
    started = time.perf_counter()
    assert read()
    first_load = time.perf_counter() - started

    interval = args.interval_ms / 1000
    begin = time.perf_counter()
    end = begin + args.seconds
    durations: List[List[float]] = [[] for _ in range(args.threads)]
    since_due: List[List[float]] = [[] for _ in range(args.threads)]

    def reader(index: int) -> None:
        # Threads start staggered over one interval, as requests arrive at a server.
        due = begin + interval * index / args.threads
        while due < end:
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            called = time.perf_counter()
            token = read()
            done = time.perf_counter()
            assert token
            durations[index].append(done - called)
            since_due[index].append(done - due)
            due += interval

    threads = [threading.Thread(target=reader, args=(i,)) for i in range(args.threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    result: Dict[str, Any] = {
        "first_load": first_load,
        "durations": [x for per in durations for x in per],
        "since_due": [x for per in since_due for x in per],
        "stats": {k: v for k, v in stats().items() if isinstance(v, (int, float, str, type(None)))},
    }
    print(json.dumps(result), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, required=True)
    args, manager = worker_manager(ap)
    measure(args, lambda: manager.secrets["STARFLEET"]["SlackToken"], manager.stats)


if __name__ == "__main__":
    main()
