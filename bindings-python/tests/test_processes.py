"""Threads, fork and interpreter exit."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from typing import Any, Callable, List

import pytest

from starfleet_secrets import SecretsManager

from conftest import REGION, clear_faults, count, fault, manager, put, run_python, starfleet_doc

CHILD_TIMEOUT = 20.0


def test_32_threads_first_access_make_one_call(secret: Callable[..., str]) -> None:
    name = secret(starfleet_doc("xoxb-threads"))
    # Slow the one call down so every thread arrives while it is in flight (below the 1 s
    # hedge delay: on a reused connection a slower call may be sent twice).
    fault(name, "delay", delay_ms=800)
    m = manager(name)
    barrier = threading.Barrier(32)
    results: List[Any] = []
    errors: List[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait(10)
            results.append(m.secrets["STARFLEET"]["SlackToken"])
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    assert results == ["xoxb-threads"] * 32
    assert count(name) == 1
    s = m.stats()
    # Every thread entered the core while the fetch was in flight (the GIL was released):
    # none of them found a fresh value.
    assert (s["fetches"], s["misses"], s["hits"]) == (1, 32, 0), s
    # And they all got the same dict.
    assert len({id(m.secrets)}) == 1


def _wait_child(pid: int) -> int:
    """Exit code of a forked child, killing it (and failing) if it hangs."""
    deadline = time.monotonic() + CHILD_TIMEOUT
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail(f"forked child hung for {CHILD_TIMEOUT}s")
        time.sleep(0.02)


def _in_child(body: Callable[[], bool]) -> int:
    """Run ``body`` in a bare ``os.fork()`` child; its exit code (0 = body returned True)."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        code = 3
        try:
            code = 0 if body() else 1
        except BaseException:  # noqa: BLE001
            code = 2
        finally:
            os._exit(code)
    return _wait_child(pid)


def test_bare_fork_after_load_child_can_refresh(secret: Callable[..., str]) -> None:
    name = secret({"v": "one"})
    m = manager(name, ttl="never")
    assert m.secrets == {"v": "one"}
    put(name, {"v": "two"})

    def child() -> bool:
        assert m.secrets == {"v": "one"}, "the child inherits the cache"
        m.refresh()
        return m.secrets == {"v": "two"}

    assert _in_child(child) == 0
    assert count(name) == 2, "one fetch in the parent, one in the child"
    assert m.secrets == {"v": "one"}, "the parent's cache is its own"


def test_bare_fork_before_first_load_child_can_load(secret: Callable[..., str]) -> None:
    name = secret({"v": "child"})
    other = secret({"v": "warm"})
    manager(other).secrets  # the parent's runtime and client exist before the fork
    m = manager(name)
    assert _in_child(lambda: m.secrets == {"v": "child"}) == 0
    assert _in_child(lambda: SecretsManager(name, REGION).get("v") == "child") == 0


def test_bare_fork_while_a_fetch_is_in_flight_in_another_thread(secret: Callable[..., str]) -> None:
    name = secret({"v": "flight"})
    fault(name, "delay", delay_ms=1500)  # the parent's fetch; the child's is not delayed
    m = manager(name)
    t = threading.Thread(target=lambda: m.secrets)
    t.start()
    time.sleep(0.3)  # the parent's thread now holds the single-flight lock
    assert _in_child(lambda: m.secrets == {"v": "flight"}) == 0
    t.join(10)
    assert m.secrets == {"v": "flight"}


def _mp_refresh(m: SecretsManager, q: Any) -> None:
    m.refresh()
    q.put(m.get("v"))


def _mp_load(m: SecretsManager, q: Any) -> None:
    q.put(m.secrets["v"])


@pytest.mark.parametrize("loaded_first", [True, False])
def test_multiprocessing_fork_context(secret: Callable[..., str], loaded_first: bool) -> None:
    name = secret({"v": "one"})
    m = manager(name, ttl="never")
    if loaded_first:
        assert m.secrets == {"v": "one"}
        put(name, {"v": "two"})
        target, want = _mp_refresh, "two"
    else:
        manager(secret({})).secrets  # warm runtime in the parent, this manager cold
        target, want = _mp_load, "one"
    ctx = multiprocessing.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=target, args=(m, q))
    p.start()
    try:
        got = q.get(timeout=CHILD_TIMEOUT)
    finally:
        p.join(CHILD_TIMEOUT)
        if p.is_alive():
            p.kill()
    assert got == want
    assert p.exitcode == 0


def test_multiprocessing_pool_of_forked_workers(secret: Callable[..., str]) -> None:
    name = secret({"v": "pool"})
    m = manager(name)
    m.secrets
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(3) as pool:
        result = pool.map_async(_pool_read, [name] * 6)
        assert result.get(timeout=CHILD_TIMEOUT) == ["pool"] * 6


def _pool_read(name: str) -> Any:
    return SecretsManager(name, REGION).get("v")


# --- interpreter exit -------------------------------------------------------------------

EXIT_SCRIPT = """
import asyncio, sys, threading, time
import starfleet_secrets as s
m = s.SecretsManager({name!r}, {region!r}, timeout={timeout})
mode = {mode!r}
if mode == "daemon":
    threading.Thread(target=lambda: m.secrets, daemon=True).start()
elif mode == "thread":
    threading.Thread(target=lambda: m.secrets).start()
elif mode == "asyncio":
    async def main():
        asyncio.get_running_loop().create_task(m.asecrets())
        await asyncio.sleep({sleep})
    asyncio.run(main())
time.sleep({sleep})
print("main done", flush=True)
"""


@pytest.mark.parametrize("mode", ["daemon", "asyncio"])
def test_exit_does_not_wait_for_a_fetch_in_flight(secret: Callable[..., str], mode: str) -> None:
    name = secret({"v": 1})
    fault(name, "hang", times=0, hang_ms=20000)
    started = time.monotonic()
    out = run_python(EXIT_SCRIPT.format(name=name, region=REGION, timeout=15, mode=mode, sleep=0.5), timeout=30)
    elapsed = time.monotonic() - started
    assert out.returncode == 0, out.stderr
    assert "main done" in out.stdout
    assert elapsed < 5, f"exit took {elapsed:.1f}s with a fetch in flight"
    clear_faults(name)


def test_exit_with_a_non_daemon_thread_fetching_ends_with_its_deadline(secret: Callable[..., str]) -> None:
    name = secret({"v": 1})
    fault(name, "hang", times=0, hang_ms=20000)
    started = time.monotonic()
    out = run_python(EXIT_SCRIPT.format(name=name, region=REGION, timeout=1, mode="thread", sleep=0.1), timeout=30)
    elapsed = time.monotonic() - started
    # Python joins non-daemon threads at exit; the fetch gives up at its deadline (1 s + slack).
    assert out.returncode == 0, out.stderr
    assert elapsed < 6, elapsed
    clear_faults(name)


def test_exit_while_fetches_finish_during_shutdown(secret: Callable[..., str]) -> None:
    # Fetches that complete around the moment the interpreter finalizes: the returning thread
    # must neither crash the process nor keep it alive.
    name = secret({"v": 1})
    for delay_ms in (200, 400, 450, 500, 550, 600, 800):
        fault(name, "delay", times=1, delay_ms=delay_ms)
        started = time.monotonic()
        out = run_python(EXIT_SCRIPT.format(name=name, region=REGION, timeout=10, mode="daemon", sleep=0.5), timeout=30)
        elapsed = time.monotonic() - started
        assert out.returncode == 0, f"delay {delay_ms} ms: exit code {out.returncode}: {out.stderr}"
        assert "Fatal" not in out.stderr and "panicked" not in out.stderr, out.stderr
        assert elapsed < 5, elapsed


PARK_SCRIPT = """
import threading, time
import starfleet_secrets as s
from starfleet_secrets import _native
m = s.SecretsManager({name!r}, {region!r})
returned = []
threading.Thread(target=lambda: returned.append(m.secrets), daemon=True).start()
time.sleep(0.1)
_native._at_exit()  # what the package's atexit hook does when shutdown begins
time.sleep(1.0)     # the daemon's fetch (delayed 300 ms) has finished by now
print("daemon returned to Python:", bool(returned))
print("this thread still reads:", s.SecretsManager({name!r}, {region!r}).get("v"))
"""


def test_after_shutdown_begins_a_finishing_fetch_does_not_reenter_python(secret: Callable[..., str]) -> None:
    # Re-attaching to a finalizing interpreter can end the thread with pthread_exit (a forced
    # unwind through Rust frames). Once the atexit hook ran, such a thread parks instead; the
    # thread running the hook (the one finalizing) keeps working.
    name = secret({"v": "ok"})
    fault(name, "delay", times=1, delay_ms=300)
    started = time.monotonic()
    out = run_python(PARK_SCRIPT.format(name=name, region=REGION))
    assert out.returncode == 0, out.stderr
    assert "daemon returned to Python: False" in out.stdout, out.stdout
    assert "this thread still reads: ok" in out.stdout, out.stdout
    assert time.monotonic() - started < 5
