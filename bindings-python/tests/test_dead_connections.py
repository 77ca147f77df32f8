"""A pooled connection that a NAT gateway or a Lambda freeze silently killed.

The harness black-holes every request that arrives on an already-used connection (a new
connection is served), which is what such a connection looks like from the client. A
request on a reused connection that gets no answer for a second is sent again on a new
connection (a hedge; the first answer wins), so the first access after it returns the
fresh value within 2 s with no failure counted, where it used to stall for the whole 10 s
deadline. Each case runs a worker in its own process:
a fresh connection pool, and a process the freeze test can stop with SIGSTOP.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from typing import Any, Callable, Dict

import pytest

from starfleet_secrets import SecretsTimeoutError

from conftest import REGION, count, fault, manager, put

#: A worker with a 1 s TTL: reads, then reads again when the test writes a line to it.
WORKER = """
import json, sys, time
import starfleet_secrets
m = starfleet_secrets.SecretsManager(sys.argv[1], sys.argv[2], ttl=1)
print(json.dumps(m.secrets), flush=True)
sys.stdin.readline()
started = time.monotonic()
value = m.secrets
print(json.dumps({"value": value, "elapsed": time.monotonic() - started, "stats": m.stats()}), flush=True)
"""


def _second_read(name: str, between: Callable[[subprocess.Popen], None]) -> Dict[str, Any]:
    """Start the worker, let it read once, run ``between``, then time its second read."""
    child = subprocess.Popen(
        [sys.executable, "-c", WORKER, name, REGION],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdin is not None
        assert json.loads(child.stdout.readline()) == {"v": "old"}
        # A NAT gateway that forgot every flow: requests on reused connections go nowhere.
        fault(name, "hang", times=0, connection="reused", hang_ms=20000)
        put(name, {"v": "new"})
        between(child)
        child.stdin.write("\n")
        child.stdin.flush()
        line = child.stdout.readline()
        assert line, child.stderr.read() if child.stderr else ""
        return dict(json.loads(line))
    finally:
        child.kill()
        child.wait()


def _check_fresh_within_2s(name: str, result: Dict[str, Any]) -> None:
    assert result["value"] == {"v": "new"}
    assert result["elapsed"] < 2.0, result
    assert result["stats"]["failures"] == 0 and result["stats"]["stale_served"] == 0, result
    assert result["stats"]["hedges"] == 1, result
    # The first read, the attempt into the black hole, the hedge on a new connection.
    assert count(name) == 3


def test_black_holed_pooled_connection_costs_about_a_second(secret: Callable[..., str]) -> None:
    name = secret({"v": "old"})
    _check_fresh_within_2s(name, _second_read(name, lambda child: time.sleep(1.2)))


def test_freeze_longer_than_the_ttl(secret: Callable[..., str]) -> None:
    """SIGSTOP / SIGCONT stands for a Lambda freeze; the fault for the NAT it meets on thaw."""
    name = secret({"v": "old"})

    def freeze(child: subprocess.Popen) -> None:
        os.kill(child.pid, signal.SIGSTOP)
        try:
            time.sleep(1.5)
        finally:
            os.kill(child.pid, signal.SIGCONT)

    _check_fresh_within_2s(name, _second_read(name, freeze))


def test_a_hung_endpoint_still_ends_within_the_deadline(secret: Callable[..., str]) -> None:
    name = secret({"v": "old"})
    fault(name, "hang", times=0, hang_ms=20000)  # every connection, new ones too
    m = manager(name, timeout=2.5)
    started = time.monotonic()
    with pytest.raises(SecretsTimeoutError):
        m.secrets
    assert time.monotonic() - started < 2.5 + 1.0
