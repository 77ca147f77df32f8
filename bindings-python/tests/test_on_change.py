"""``on_change``: a new VersionId (put through the API) reaches the callback with the old and
new ids, on a Python thread, never a runtime thread; raising callbacks and callbacks that read
the manager again never break the read."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any, Callable, List, Optional, Tuple

import pytest

import starfleet_secrets
from starfleet_secrets import _native
from starfleet_secrets.testing import override_secrets

from conftest import create, manager, put, unique

Calls = List[Tuple[Optional[str], str]]


def recorder() -> Tuple[Calls, Callable[[Optional[str], str], None]]:
    calls: Calls = []
    return calls, lambda old, new: calls.append((old, new))


def runtime_thread_ids() -> List[int]:
    """Native ids of the library's runtime threads (named starfleet-secrets, shown truncated)."""
    tasks = Path("/proc/self/task")
    return [int(t.name) for t in tasks.iterdir() if (t / "comm").read_text().strip() == "starfleet-secre"]


def test_a_put_version_reaches_the_callback_on_the_calling_thread() -> None:
    name = unique("notify")
    v1 = create(name, {"k": "one"})
    m = manager(name, ttl="never")
    calls, record = recorder()
    threads: List[int] = []
    sub = m.on_change(record)
    m.on_change(lambda old, new: threads.append(threading.get_native_id()))
    assert "active" in repr(sub) and not sub.cancelled
    m.load_secrets()
    assert calls == [(None, v1)], "the first load reports no old id"
    m.refresh()
    m.invalidate()
    assert m.secrets == {"k": "one"}
    assert calls == [(None, v1)], "the same version again is no change"
    v2 = put(name, {"k": "two"})
    m.refresh()
    assert calls == [(None, v1), (v1, v2)]
    assert threads == [threading.get_native_id()] * 2


def test_the_callback_may_read_the_manager_and_sees_the_new_value() -> None:
    name = unique("notify-reenter")
    create(name, {"k": "one"})
    m = manager(name, ttl="never")
    assert m.secrets == {"k": "one"}
    seen: List[Any] = []

    def reread(old: Optional[str], new: str) -> None:
        seen.append((m.secrets["k"], m.stats()["version_id"] == new))
        m.refresh()  # back into the manager, from inside the callback: no deadlock

    m.on_change(reread)
    put(name, {"k": "two"})
    m.refresh()
    assert seen == [("two", True)]


def test_a_raising_callback_is_logged_and_the_read_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    canary = "CANARY-" + os.urandom(8).hex()
    name = unique("notify-raise")
    create(name, {"k": canary})
    m = manager(name, ttl="never")
    caplog.set_level(logging.DEBUG, logger="starfleet_secrets")

    def bad(old: Optional[str], new: str) -> None:
        raise ValueError(f"callback failed holding {canary}")

    calls, record = recorder()
    m.on_change(bad)
    m.on_change(record)
    assert m.get("k") == canary
    assert len(calls) == 1, "the next callback still ran"
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert any("on_change callback raised ValueError" in r.getMessage() for r in errors), caplog.text
    assert canary not in caplog.text


def test_cancel_stops_the_calls_also_from_inside_the_callback() -> None:
    name = unique("notify-cancel")
    create(name, {"k": 1})
    m = manager(name, ttl="never")
    calls, record = recorder()
    sub = m.on_change(record)
    m.load_secrets()
    sub.cancel()
    sub.cancel()
    assert sub.cancelled and "cancelled" in repr(sub)
    put(name, {"k": 2})
    m.refresh()
    assert len(calls) == 1

    inner: List[str] = []
    holder: List[starfleet_secrets.ChangeSubscription] = []

    def once(old: Optional[str], new: str) -> None:
        inner.append(new)
        holder[0].cancel()  # returns at once: waiting for itself would never end

    holder.append(m.on_change(once))
    put(name, {"k": 3})
    m.refresh()
    put(name, {"k": 4})
    m.refresh()
    assert len(inner) == 1


def test_asyncio_calls_run_the_callback_off_the_runtime_threads() -> None:
    name = unique("notify-async")
    v1 = create(name, {"k": 1})
    m = manager(name, ttl="never")
    got = threading.Event()
    where: List[Tuple[Optional[str], str, int, str]] = []

    def record(old: Optional[str], new: str) -> None:
        where.append((old, new, threading.get_native_id(), threading.current_thread().name))
        got.set()

    m.on_change(record)

    async def main() -> Any:
        return await m.asecrets()

    assert asyncio.run(main()) == {"k": 1}
    assert got.wait(10)
    old, new, tid, _ = where[0]
    assert (old, new) == (None, v1)
    assert tid not in runtime_thread_ids(), "called on a runtime thread"
    comm = Path(f"/proc/self/task/{tid}/comm")
    assert not comm.exists() or comm.read_text().strip() == "starfleet-notif"


def test_reconfigure_keeps_the_callbacks_and_a_new_secret_is_a_change() -> None:
    a, b = unique("notify-a"), unique("notify-b")
    va, vb = create(a, {"v": "a"}), create(b, {"v": "b"})
    m = manager(a, ttl="never")
    calls, record = recorder()
    m.on_change(record)
    m.load_secrets()
    m.configure(b, m.settings()["region"], ttl="never")
    m.load_secrets()
    assert calls == [(None, va), (va, vb)]


def test_testing_overrides_never_call_it() -> None:
    name = unique("notify-override")
    create(name, {"k": 1})
    m = manager(name, ttl="never")
    calls, record = recorder()
    m.on_change(record)
    with override_secrets({"k": "pinned"}, manager=m):
        assert m.secrets == {"k": "pinned"}
        m.refresh()
    assert calls == []


def test_on_change_needs_a_callable() -> None:
    with pytest.raises(TypeError, match="callable"):
        manager(unique("notify-type")).on_change("not callable")  # type: ignore[arg-type]


def test_concurrent_readers_see_one_call_per_change() -> None:
    name = unique("notify-herd")
    v1 = create(name, {"k": 1})
    m = manager(name, ttl=0)
    calls, record = recorder()
    m.on_change(record)
    m.load_secrets()
    v2 = put(name, {"k": 2})
    threads = [threading.Thread(target=m.refresh if i % 2 else m.load_secrets) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    time.sleep(0.1)
    assert calls == [(None, v1), (v1, v2)]


def test_a_child_forked_during_a_callback_still_gets_its_changes_and_can_cancel() -> None:
    from test_processes import _in_child

    name = unique("notify-fork")
    create(name, {"k": 1})
    m = manager(name, ttl="never")
    m.load_secrets()
    entered = threading.Event()
    calls: Calls = []

    def slow(old: Optional[str], new: str) -> None:
        calls.append((old, new))
        if os.getpid() == parent:
            entered.set()
            time.sleep(1.5)  # the parent's delivery is still running when the child forks

    parent = os.getpid()
    sub = m.on_change(slow)
    put(name, {"k": 2})
    t = threading.Thread(target=m.refresh)
    t.start()
    assert entered.wait(10)

    def child() -> bool:
        v3 = put(name, {"k": 3})
        m.refresh()
        sub.cancel()  # does not wait for the parent's call, whose thread is not here
        return calls[-1][1] == v3 and len(calls) == 2

    assert _in_child(child) == 0
    t.join(10)
    assert len(calls) == 1


def test_a_callback_that_captures_its_manager_does_not_keep_it_alive() -> None:
    """The usual closure (``m.on_change(lambda old, new: rebuild(m))``) makes a cycle through
    the native manager: the garbage collector must still be able to free it."""
    import gc
    import weakref

    class Canary:
        pass

    def make() -> "weakref.ref[Canary]":
        m = manager(unique("notify-cycle"))
        canary = Canary()
        sub = m.on_change(lambda old, new: (m.stats(), canary, sub))
        return weakref.ref(canary)

    alive = make()
    gc.collect()
    assert alive() is None, "the manager, its subscription and the callback were never freed"
