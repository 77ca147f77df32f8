"""Replica failover: time to the first value when the secret's region fails, by failure kind.

Each sample is a new secret replicated from us-east-2 to us-west-2 (moto's replica support), a
fault on every us-east-2 request for it (matched on the SigV4 region), and a new manager with
fallback_regions=["us-west-2"] timing its first read over HTTPS. stats() must say the replica
served (and the primary, with no fault). Run under scripts/with-harness (see run).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from typing import Any, Dict, List, Optional

from starfleet_secrets import SecretsManager

PRIMARY, REPLICA = "us-east-2", "us-west-2"
CASES = [
    ("healthy primary (no failover)", None, {}, 20),
    ("primary answers 503 to every attempt", {"action": "error", "status": 503, "code": "ServiceUnavailable"}, {}, 20),
    ("primary throttles every attempt", {"action": "throttle"}, {}, 20),
    ("primary never answers (timeout 3 s)", {"action": "hang", "hang_ms": 20000}, {"timeout": 3}, 5),
    ("primary never answers (default timeout 10 s)", {"action": "hang", "hang_ms": 20000}, {}, 5),
]


def control(method: str, path: str, body: Optional[Dict[str, Any]] = None) -> Any:
    request = urllib.request.Request(
        os.environ["STARFLEET_TEST_PROXY"] + "/__harness/" + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read())


def sample(fault: Optional[Dict[str, Any]], options: Dict[str, Any]) -> float:
    name = "bench-failover-" + uuid.uuid4().hex[:10]
    params = {"Name": name, "SecretString": '{"k": "v"}', "AddReplicaRegions": [{"Region": REPLICA}]}
    control("POST", "call", {"operation": "CreateSecret", "region": PRIMARY, "params": params})
    if fault:
        control("POST", "faults", {"secret_id": name, "region": PRIMARY, "times": 0, **fault})
    manager = SecretsManager(name, PRIMARY, fallback_regions=[REPLICA], **options)
    started = time.perf_counter()
    manager.secrets
    elapsed = (time.perf_counter() - started) * 1000
    stats = manager.stats()
    assert stats["region"] == (REPLICA if fault else PRIMARY), stats
    control("DELETE", "faults?secret_id=" + name)
    return elapsed


def one(index: int) -> None:
    """One case in this process: its SDK clients and their retry quota are its own."""
    _, fault, options, n = CASES[index]
    SecretsManager("warm-up", PRIMARY).settings()  # load the library before timing
    print(json.dumps(sorted(sample(fault, options) for _ in range(n))))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out")
    parser.add_argument("--command")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        return one(args.one)
    rows: List[str] = []
    for index, (label, _, _, n) in enumerate(CASES):
        # A process per case: the samples of a case share one SDK client per region, whose
        # retry quota a previous case's failures would otherwise have drained.
        out = subprocess.run([sys.executable, __file__, "--one", str(index)], check=True, capture_output=True)
        times = json.loads(out.stdout)
        rows.append(f"| {label} | {n} | {statistics.median(times):.0f} ms | {times[0]:.0f} ms | {times[-1]:.0f} ms |")
        print(rows[-1], flush=True)
    with open(args.out, "w") as out_file:
        out_file.write(
            "# Replica failover: time to the first value\n\n"
            f"Command: `{args.command}` ({time.strftime('%Y-%m-%d')}). Each sample: a new secret in "
            f"{PRIMARY} replicated to {REPLICA}, a fault on every {PRIMARY} request, a new manager with "
            f"`fallback_regions=[\"{REPLICA}\"]`, its first read over HTTPS (the release wheel installed by `bench/dist.sh` into bench/.venv); "
            "one process per case.\n\n"
            "| case | samples | median | min | max |\n| --- | ---: | ---: | ---: | ---: |\n" + "\n".join(rows) + "\n"
        )


if __name__ == "__main__":
    main()
