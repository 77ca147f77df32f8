"""A secret the platform delivers (``source="file:..."``, ``"env:..."``): the same ``secrets``,
``get``, errors, ``on_change`` and ``stats()`` as for Secrets Manager, with no AWS call.

The rules are core's (``core/tests/mounted.rs`` covers them in depth, the vectors under
``tests/vectors/mounted`` cover each form in every language); this checks what Python adds:
the converted dict follows a rotation, ``on_change`` reports it once, errors are the Python
classes, and nothing in them quotes the value.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import List, Optional, Tuple

import pytest

from starfleet_secrets import SecretsFormatError, SecretsManager, SecretsNotFoundError


def atomic_write(directory: Path, stamp: str, text: str) -> None:
    """Kubernetes' atomic writer: ``..<stamp>/app.json``, ``..data`` swapped, ``app.json -> ..data/app.json``."""
    versioned = directory / f"..{stamp}"
    versioned.mkdir()
    (versioned / "app.json").write_text(text)
    tmp = directory / "..data_tmp"
    os.symlink(versioned.name, tmp)
    os.rename(tmp, directory / "..data")
    if not (directory / "app.json").is_symlink():
        os.symlink("..data/app.json", directory / "app.json")


def test_a_rotated_mounted_file_is_one_change_and_a_new_dict(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "https://127.0.0.1:9")  # any AWS call would fail
    atomic_write(tmp_path, "2026_12_05_10_00_00.1", '{"db": {"password": "canary-py-mounted-1"}}')
    m = SecretsManager(source=f"file:{tmp_path / 'app.json'}", ttl=300)
    assert m.get_str("db.password") == "canary-py-mounted-1"
    first = m.secrets
    calls: List[Tuple[Optional[str], str]] = []
    m.on_change(lambda old, new: calls.append((old, new)))
    m.refresh()
    assert m.secrets is first, "an unchanged file keeps the converted dict"
    atomic_write(tmp_path, "2026_12_05_11_00_00.2", '{"db": {"password": "canary-py-mounted-2"}}')
    m.refresh()
    assert m.get("db") == {"password": "canary-py-mounted-2"}
    deadline = time.monotonic() + 3
    while not calls and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(calls) == 1 and calls[0][0] is not None and calls[0][1].startswith("content-"), calls
    stats = m.stats()
    assert stats["region"] is None and stats["failures"] == 0 and stats["version_id"] == calls[0][1]
    assert m.settings()["source"] == f"file:{tmp_path / 'app.json'}"
    assert "canary" not in repr(m)


def test_environment_sources_and_their_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SF_PY_MOUNTED", '{"token": "canary-py-env"}')
    m = SecretsManager(source="env:SF_PY_MOUNTED", ttl=0)
    assert m.get_str("token") == "canary-py-env"
    monkeypatch.setenv("SF_PY_MOUNTED", "canary-py-json-key")
    with pytest.raises(SecretsFormatError) as e:
        m.refresh()
    assert "json-key" in str(e.value) and "canary" not in str(e.value)
    assert m.get_str("token") == "canary-py-env", "stale-if-error keeps the last good value, as for AWS"
    monkeypatch.delenv("SF_PY_MOUNTED")
    with pytest.raises(SecretsNotFoundError, match="SF_PY_MOUNTED"):
        _ = SecretsManager(source="env:SF_PY_MOUNTED").secrets
