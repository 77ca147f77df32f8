"""Refresh-ahead and the fleet expiry jitter, against the harness (moto + fault proxy).

The proxy's ``delay`` fault makes every fetch take 0.9 s (just under the library's 1 s
hedge delay, after which a call on a reused connection would also be sent on a new one and
the call counts would double): a read that takes more than ``WAITED`` waited for a fetch.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Callable, List

import pytest

from starfleet_secrets import SecretsConfigurationInvalidError, SecretsManager, StarfleetSecretsError

from conftest import REGION, clear_faults, count, fault, manager, put, run_python

DELAY_MS = 900
WAITED = 0.3


def _read_for(m: Any, seconds: float, on_tick: Callable[[float], None] = lambda _: None) -> float:
    """Read every 50 ms for ``seconds``; the slowest read's wall time."""
    start = time.monotonic()
    slowest = 0.0
    while time.monotonic() - start < seconds:
        on_tick(time.monotonic() - start)
        t = time.monotonic()
        m.secrets
        m.get("token")
        slowest = max(slowest, time.monotonic() - t)
        time.sleep(0.05)
    return slowest


def test_after_the_first_load_no_read_waits_for_a_fetch(secret: Callable[..., str]) -> None:
    name = secret({"token": "v1"})
    fault(name, "delay", times=0, delay_ms=DELAY_MS)
    # TTL 3 s, refresh at 1.5 s of age: a 0.9 s fetch ends well before the value expires.
    m = manager(name, ttl=3, refresh_ahead=0.5, expiry_jitter=0)
    t = time.monotonic()
    assert m.get("token") == "v1"
    assert time.monotonic() - t >= DELAY_MS / 1000, "the first load waits for its fetch"
    rotated: List[bool] = []

    def rotate(elapsed: float) -> None:
        if elapsed > 4 and not rotated:
            put(name, {"token": "v2"})
            rotated.append(True)

    slowest = _read_for(m, 10, rotate)
    assert slowest < WAITED, f"a read waited {slowest:.2f}s for a fetch"
    assert m.get("token") == "v2", "the background refreshes bring the new version"
    stats = m.stats()
    assert stats["refreshes_ahead"] >= 3, stats
    assert stats["fetches"] == stats["refreshes_ahead"] + 1 == count(name), stats
    assert (stats["failures"], stats["stale_served"]) == (0, 0), stats
    clear_faults(name)


def test_after_the_first_load_no_asyncio_read_waits_for_a_fetch(secret: Callable[..., str]) -> None:
    name = secret({"token": "v1"})
    fault(name, "delay", times=0, delay_ms=DELAY_MS)
    m = manager(name, ttl=3, refresh_ahead=0.5, expiry_jitter=0)

    async def main() -> float:
        await m.asecrets()
        slowest = 0.0
        start = time.monotonic()
        while time.monotonic() - start < 7:
            t = time.monotonic()
            await asyncio.gather(*(m.aget("token") for _ in range(4)))
            slowest = max(slowest, time.monotonic() - t)
            await asyncio.sleep(0.05)
        return slowest

    slowest = asyncio.run(main())
    assert slowest < WAITED, f"a read waited {slowest:.2f}s for a fetch"
    assert m.stats()["refreshes_ahead"] >= 2, m.stats()
    clear_faults(name)


def test_a_failed_background_refresh_keeps_the_value_then_follows_max_stale(secret: Callable[..., str]) -> None:
    name = secret({"token": "kept"})
    m = manager(name, ttl=2, refresh_ahead=0.25, expiry_jitter=0, max_stale=2, timeout=2)
    loaded = time.monotonic()
    m.secrets
    fault(name, "error", times=0, status=400, code="AccessDeniedException")
    time.sleep(0.6)
    t = time.monotonic()
    assert m.get("token") == "kept"  # starts the background refresh
    assert time.monotonic() - t < WAITED
    deadline = time.monotonic() + 5
    while m.stats()["failures"] == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    stats = m.stats()
    assert (stats["refreshes_ahead"], stats["failures"], stats["last_error"]) == (1, 1, "ACCESS_DENIED"), stats
    assert m.get("token") == "kept" and stats["version_id"] is not None
    time.sleep(max(0.0, 2.2 - (time.monotonic() - loaded)))
    assert m.get("token") == "kept"  # past the TTL: served stale
    assert m.stats()["stale_served"] >= 1
    time.sleep(max(0.0, 4.3 - (time.monotonic() - loaded)))
    with pytest.raises(StarfleetSecretsError) as failed:
        m.secrets  # past TTL + max_stale
    assert failed.value.code == "ACCESS_DENIED"
    clear_faults(name)


EXIT_SCRIPT = """
import time
import starfleet_secrets as s
m = s.SecretsManager({name!r}, {region!r}, ttl=1, refresh_ahead=0.1, timeout=15)
m.secrets
time.sleep(0.3)
t = time.monotonic()
m.secrets  # starts a background refresh, which hangs
assert time.monotonic() - t < 0.3
time.sleep(0.3)
print("refreshes_ahead", m.stats()["refreshes_ahead"], "main done", flush=True)
"""


def test_exit_is_prompt_with_a_background_refresh_in_flight(secret: Callable[..., str]) -> None:
    name = secret({"token": "v1"})
    fault(name, "delay", times=1, delay_ms=1)  # the first load passes...
    fault(name, "hang", times=0, hang_ms=20000)  # ...every later call hangs
    started = time.monotonic()
    out = run_python(EXIT_SCRIPT.format(name=name, region=REGION), timeout=30)
    elapsed = time.monotonic() - started
    assert out.returncode == 0, out.stderr
    assert "refreshes_ahead 1 main done" in out.stdout, out.stdout
    assert elapsed < 5, f"exit took {elapsed:.1f}s with a background refresh in flight"
    clear_faults(name)


JITTER_SCRIPT = """
import time
import starfleet_secrets as s
m = s.SecretsManager({name!r}, {region!r}, ttl={ttl}, expiry_jitter={jitter})
m.secrets
loaded = time.monotonic()
while m.stats()["fetches"] == 1:
    m.secrets
    time.sleep(0.01)
print("expired-after", time.monotonic() - loaded, flush=True)
"""


def test_processes_started_together_expire_at_different_times(secret: Callable[..., str]) -> None:
    import subprocess
    import sys

    name = secret({"token": "v1"})
    ttl, jitter = 4.0, 0.5
    code = JITTER_SCRIPT.format(name=name, region=REGION, ttl=ttl, jitter=jitter)
    children = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True) for _ in range(3)]
    expiries = []
    for child in children:
        out, _ = child.communicate(timeout=30)
        assert child.returncode == 0
        expiries.append(float(out.split("expired-after")[1]))
    for e in expiries:
        assert ttl * (1 - jitter) - 0.05 <= e <= ttl + 0.3, expiries
    # Uniform shares over 2 s: three within 60 ms of each other means they were not drawn apart.
    assert max(expiries) - min(expiries) > 0.06, expiries


def test_options_and_environment(secret: Callable[..., str], monkeypatch: pytest.MonkeyPatch) -> None:
    name = secret({"token": "v1"})
    settings = manager(name).settings()
    assert (settings["refresh_ahead"], settings["expiry_jitter"]) == (0.0, 0.1)
    monkeypatch.setenv("STARFLEET_SECRETS_REFRESH_AHEAD", "0.8")
    monkeypatch.setenv("STARFLEET_SECRETS_EXPIRY_JITTER", "0")
    settings = manager(name).settings()
    assert (settings["refresh_ahead"], settings["expiry_jitter"]) == (0.8, 0.0)
    settings = manager(name, refresh_ahead=0.5, expiry_jitter=0.2).settings()
    assert (settings["refresh_ahead"], settings["expiry_jitter"]) == (0.5, 0.2)
    for var, bad in [("STARFLEET_SECRETS_REFRESH_AHEAD", "1"), ("STARFLEET_SECRETS_EXPIRY_JITTER", "lots")]:
        monkeypatch.setenv(var, bad)
        with pytest.raises(SecretsConfigurationInvalidError) as invalid:
            manager(name).secrets
        assert var in str(invalid.value) and invalid.value.code == "CONFIG_INVALID"
        monkeypatch.delenv(var)
    for kwargs in [{"refresh_ahead": 1.0}, {"expiry_jitter": -0.1}, {"refresh_ahead": True}]:
        with pytest.raises(StarfleetSecretsError) as bad_arg:
            manager(name, **kwargs)
        assert bad_arg.value.code == "INVALID_ARGUMENT", kwargs


def test_a_host_configuration_is_followed_while_refresh_ahead_keeps_the_value_fresh(
    secret: Callable[..., str],
) -> None:
    """With refresh-ahead, reads that keep coming never miss: the host's configuration must
    still be asked for before each refresh, so a mapping that names another secret is
    followed (within one refresh-ahead period), as it is after the TTL without it."""
    a, b = secret({"v": "a"}), secret({"v": "b"})
    live = {"STARFLEET": {"SecretsManager": {"SecretId": a, "SecretRegion": REGION}}}
    m = SecretsManager(config=live, ttl=1, refresh_ahead=0.3, expiry_jitter=0)
    assert m.get("v") == "a"
    live["STARFLEET"]["SecretsManager"]["SecretId"] = b
    seen: List[Any] = []
    deadline = time.monotonic() + 4
    while time.monotonic() < deadline:
        seen.append(m.get("v"))
        time.sleep(0.05)
    assert seen[-1] == "b", f"the host's configuration was not followed: {seen[-5:]}"
    assert count(b) >= 1
