"""The asyncio methods: same values and errors, and the event loop never blocks."""

from __future__ import annotations

import asyncio
import time
from typing import Any, Callable, List

import pytest

import starfleet_secrets
from starfleet_secrets import SECRETS_MANAGER, SecretsManager

from conftest import REGION, clear_faults, count, fault, manager, put, run_python, starfleet_doc, unique


def test_asecrets_and_aget(secret: Callable[..., str]) -> None:
    name = secret(starfleet_doc("xoxb-async"))
    m = manager(name)

    async def main() -> None:
        d = await m.asecrets()
        assert d["STARFLEET"]["SlackToken"] == "xoxb-async"
        assert await m.asecrets() is d, "a hit returns the same dict"
        assert m.secrets is d
        assert await m.aget("STARFLEET.SlackToken") == "xoxb-async"
        assert await m.aget("GitHubSyncWorker", "my.org") == "-----BEGIN KEY-----"
        assert await m.aget("STARFLEET", "nope", default=None) is None
        with pytest.raises(KeyError):
            await m.aget("STARFLEET.nope")

    asyncio.run(main())
    assert count(name) == 1


def test_aget_and_asecrets_on_a_cold_cache(secret: Callable[..., str]) -> None:
    name = secret(starfleet_doc("xoxb-cold"))

    async def main() -> None:
        assert await manager(name).aget("STARFLEET.SlackToken") == "xoxb-cold"
        assert await manager(name).aget("STARFLEET.nope", default="d") == "d"
        assert (await manager(name).asecrets())["STARFLEET"]["SlackToken"] == "xoxb-cold"

    asyncio.run(main())
    assert count(name) == 3


def test_arefresh_and_asecret_binary(secret: Callable[..., str]) -> None:
    name = secret({"v": "one"})
    binary = secret(binary=b"\x00bin")
    m = manager(name, ttl="never")

    async def main() -> None:
        assert await m.asecrets() == {"v": "one"}
        put(name, {"v": "two"})
        assert await m.asecrets() == {"v": "one"}
        assert await m.arefresh() is None
        assert await m.asecrets() == {"v": "two"}
        assert await manager(binary).asecret_binary() == b"\x00bin"

    asyncio.run(main())


def test_async_errors_are_the_same_classes() -> None:
    name = unique("async-absent")

    async def main() -> None:
        with pytest.raises(starfleet_secrets.SecretNotFoundError, match=name):
            await manager(name).asecrets()
        with pytest.raises(starfleet_secrets.SecretNotFoundError):
            await manager(name).aget("x")
        with pytest.raises(starfleet_secrets.SecretNotFoundError):
            await manager(name).arefresh()
        with pytest.raises(starfleet_secrets.SecretsInvalidArgumentError):
            await manager(name).aget("a..b")

    asyncio.run(main())


def test_the_event_loop_keeps_ticking_while_a_fetch_is_delayed(secret: Callable[..., str]) -> None:
    name = secret(starfleet_doc("xoxb-tick"))
    fault(name, "delay", delay_ms=800)
    m = manager(name)
    ticks: List[float] = []

    async def ticker(done: asyncio.Event) -> None:
        while not done.is_set():
            ticks.append(time.monotonic())
            await asyncio.sleep(0.01)

    async def main() -> float:
        done = asyncio.Event()
        task = asyncio.create_task(ticker(done))
        started = time.monotonic()
        token = await m.aget("STARFLEET.SlackToken")
        elapsed = time.monotonic() - started
        done.set()
        await task
        assert token == "xoxb-tick"
        return elapsed

    elapsed = asyncio.run(main())
    assert elapsed >= 0.75, "the proxy delayed the fetch"
    assert len(ticks) >= 40, f"the loop ticked only {len(ticks)} times in {elapsed:.2f}s"
    gaps = [b - a for a, b in zip(ticks, ticks[1:])]
    assert max(gaps) < 0.25, f"the loop stalled for {max(gaps):.2f}s"


def test_many_coroutines_on_a_cold_cache_make_one_call(secret: Callable[..., str]) -> None:
    name = secret(starfleet_doc("xoxb-herd"))
    fault(name, "delay", delay_ms=300)
    m = manager(name)

    async def main() -> List[Any]:
        return await asyncio.gather(*(m.aget("STARFLEET.SlackToken") for _ in range(100)))

    assert asyncio.run(main()) == ["xoxb-herd"] * 100
    assert count(name) == 1


def test_cancelling_an_await_leaves_the_manager_usable(secret: Callable[..., str]) -> None:
    name = secret({"v": "ok"})
    fault(name, "hang", times=1, hang_ms=1500)
    m = manager(name, timeout=1)

    async def main() -> None:
        task = asyncio.create_task(m.asecrets())
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # The abandoned fetch times out on its own; a new access then works.
        await asyncio.sleep(1.5)
        m.invalidate()
        assert await m.asecrets() == {"v": "ok"}

    asyncio.run(main())
    clear_faults(name)


def test_singleton_async_with_a_testing_override() -> None:
    from starfleet_secrets.testing import override_secrets

    async def main() -> Any:
        with override_secrets({"STARFLEET": {"SlackToken": "fake"}}):
            return await SECRETS_MANAGER.aget("STARFLEET.SlackToken")

    assert asyncio.run(main()) == "fake"


def test_async_from_several_event_loops_in_threads(secret: Callable[..., str]) -> None:
    import threading

    name = secret({"v": "threads"})
    fault(name, "delay", delay_ms=200)
    m = SecretsManager(name, REGION)
    results: List[Any] = []

    def run() -> None:
        results.append(asyncio.run(m.aget("v")))

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert results == ["threads"] * 4
    assert count(name) == 1


def test_executor_fallback_where_the_native_wakeup_is_not_built(
    secret: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(starfleet_secrets, "_NATIVE_ASYNC", False)
    name = secret({"v": "fallback"})
    binary = secret(binary=b"\x01")
    m = manager(name)

    async def main() -> None:
        assert await m.asecrets() == {"v": "fallback"}
        assert await m.aget("v") == "fallback"
        assert await m.aget("nope", default=1) == 1
        await m.arefresh()
        assert await manager(binary).asecret_binary() == b"\x01"
        with pytest.raises(KeyError):
            await m.aget("nope")

    asyncio.run(main())
    assert count(name) == 2


FD_SCRIPT = """
import asyncio, resource
resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))  # ulimit -n 256
import starfleet_secrets as s
m = s.SecretsManager({name!r}, {region!r})

async def main():
    return await asyncio.gather(*(m.aget("v") for _ in range(300)), return_exceptions=True)

results = asyncio.run(main())
failed = [repr(r) for r in results if r != "fd"]
print(len(results), "results,", len(failed), "failed", failed[:3])
"""


def test_300_waiters_on_a_cold_slow_fetch_fit_in_256_descriptors(secret: Callable[..., str]) -> None:
    # Regression: each waiter used to hold a socket pair (two descriptors), so under
    # `ulimit -n 256` most of 300 concurrent aget() failed with "Too many open files".
    # Run in a fresh interpreter so the limit (and any regression) stays there.
    name = secret({"v": "fd"})
    # A 2 s answer is slow, not broken (it used to fail every waiter with TIMEOUT). The fresh
    # interpreter's first call goes out on a new connection, which waits for its answer: one call.
    fault(name, "delay", delay_ms=2000)
    out = run_python(FD_SCRIPT.format(name=name, region=REGION), timeout=60)
    assert out.returncode == 0, out.stderr
    assert "300 results, 0 failed" in out.stdout, out.stdout + out.stderr
    assert count(name) == 1
