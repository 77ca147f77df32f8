"""The boto3 worker of bench/refresh-ahead: what a worker without this package does, boto3's
``get_secret_value`` with the parsed document kept for the TTL (one lock, so concurrent
readers share a fetch; no refresh-ahead, no jitter). Same command line, schedule and JSON
line as ``worker.py``; run with a Python that has boto3 (the harness's .venv).
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from pathlib import Path
from typing import Any, Dict, Optional

import boto3

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from driver import worker_arguments  # noqa: E402
from worker import measure  # noqa: E402


class TtlCache:
    def __init__(self, name: str, region: str, ttl: float) -> None:
        self.client = boto3.client("secretsmanager", region_name=region)
        self.name = name
        self.ttl = ttl
        self.lock = threading.Lock()
        self.document: Optional[Dict[str, Any]] = None
        self.fetched_at = 0.0
        self.counts = {"fetches": 0, "misses": 0, "hits": 0}

    def token(self) -> str:
        with self.lock:
            if self.document is None or time.monotonic() - self.fetched_at >= self.ttl:
                self.counts["misses"] += 1
                self.counts["fetches"] += 1
                reply = self.client.get_secret_value(SecretId=self.name)
                self.document = json.loads(reply["SecretString"])
                self.fetched_at = time.monotonic()
            else:
                self.counts["hits"] += 1
            return str(self.document["STARFLEET"]["SlackToken"])

    def stats(self) -> Dict[str, Any]:
        return dict(self.counts)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, required=True)
    args = worker_arguments(ap)  # --options is empty: the variant has none
    cache = TtlCache(args.name, args.region, args.ttl)
    measure(args, cache.token, cache.stats)


if __name__ == "__main__":
    main()
