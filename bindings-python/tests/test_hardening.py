"""Regression tests, as Python sees them, of concurrent fetches on a hung endpoint, a configuration path that never answers, and panic text."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Callable, List, Tuple

import pytest

from conftest import clear_faults, fault, manager
from starfleet_secrets import SecretsConfigurationInvalidError, SecretsManager, SecretsTimeoutError


def test_concurrent_refreshes_share_one_fetch_within_the_deadline(secret: Callable[..., str]) -> None:
    """8 threads, timeout=1, hung endpoint. Before: 8 fetches, the last after ~8 s."""
    name = secret({"v": 1})
    fault(name, "hang", times=0, hang_ms=20000)
    try:
        m = manager(name, timeout=1)
        started = time.monotonic()
        outcomes: List[Tuple[str, float]] = []

        def refresh() -> None:
            try:
                m.refresh()
                outcomes.append(("ok", time.monotonic() - started))
            except SecretsTimeoutError:
                outcomes.append(("TIMEOUT", time.monotonic() - started))

        threads = [threading.Thread(target=refresh) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        assert [o for o, _ in outcomes] == ["TIMEOUT"] * 8
        assert max(took for _, took in outcomes) < 2.0, outcomes
        assert m.stats()["fetches"] == 1
    finally:
        clear_faults(name)


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "starfleet.yaml"
    os.mkfifo(path)
    return path


def _within(seconds: float, fifo: Path, call: Callable[[], object]) -> object:
    """``call()`` on a thread; fail instead of hanging (a FIFO open is released by a writer)."""
    box: List[object] = []
    t = threading.Thread(target=lambda: box.append(_outcome(call)), daemon=True)
    t.start()
    t.join(seconds)
    if t.is_alive():
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)  # unblock the reader
        os.close(fd)
        pytest.fail(f"blocked for more than {seconds}s on {fifo}")
    return box[0]


def _outcome(call: Callable[[], object]) -> object:
    try:
        return call()
    except Exception as e:  # noqa: BLE001 - the test inspects it
        return e


def test_a_fifo_as_starfleet_config_is_refused_at_once(fifo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A configuration path that never answers: before, the first access hung forever (and stats()/repr()/invalidate() with it)."""
    for var in ("STARFLEET_SECRET_ID", "STARFLEET_SECRET_REGION"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("STARFLEET_CONFIG", str(fifo))
    m = SecretsManager()
    access = threading.Thread(target=lambda: _outcome(lambda: m.secrets), daemon=True)
    access.start()
    # Responsive while the access runs (they never wait for configuration I/O).
    assert _within(2, fifo, lambda: [m.stats(), repr(m), m.invalidate()]) is not None
    e = _within(5, fifo, lambda: m.secrets)
    assert isinstance(e, SecretsConfigurationInvalidError), e
    assert str(fifo) in str(e) and "FIFO" in str(e)
    access.join(5)


def test_a_fifo_inside_a_config_directory_is_refused_naming_it(tmp_path: Path) -> None:
    (tmp_path / "00-base.yaml").write_text("STARFLEET:\n  SecretsManager:\n    SecretId: S\n    SecretRegion: us-east-2\n")
    os.mkfifo(tmp_path / "10-pipe.yaml")
    m = SecretsManager(config=tmp_path)
    e = _within(5, tmp_path / "10-pipe.yaml", lambda: m.settings())
    assert isinstance(e, SecretsConfigurationInvalidError), e
    assert "10-pipe.yaml" in str(e) and "not a regular file" in str(e)
