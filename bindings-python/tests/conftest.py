"""Shared helpers: the local Secrets Manager harness started by ``scripts/with-harness``.

``STARFLEET_TEST_MOTO`` is moto itself (tests create their secrets there with boto3, which the
harness venv has because moto depends on it), ``STARFLEET_TEST_PROXY`` the fault proxy in
front of it. The library under test talks to the proxy through
``AWS_ENDPOINT_URL_SECRETS_MANAGER``. Faults and request counts are scoped per secret id, so
every test uses its own secret names (:func:`unique`).
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional

import boto3
import pytest

import starfleet_secrets
from starfleet_secrets import SecretsManager

pytest_plugins = ["pytester"]

REGION = "us-west-2"
REPO = Path(__file__).resolve().parents[2]
_counter = itertools.count()


def _env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(f"{name} is not set: run through `scripts/with-harness` (scripts/test-python does)")
    return value


def unique(prefix: str) -> str:
    """A secret name no other test (or earlier run against the same server) uses."""
    return f"py-{prefix}-{time.time_ns()}-{next(_counter)}"


def moto() -> Any:
    return boto3.client(
        "secretsmanager",
        endpoint_url=_env("STARFLEET_TEST_MOTO"),
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def create(name: str, doc: Any = None, *, text: Optional[str] = None, binary: Optional[bytes] = None) -> str:
    """Create a secret straight in moto (not counted by the proxy); returns its VersionId."""
    if binary is not None:
        out = moto().create_secret(Name=name, SecretBinary=binary)
    else:
        out = moto().create_secret(Name=name, SecretString=text if text is not None else json.dumps(doc))
    return str(out["VersionId"])


def put(name: str, doc: Any) -> str:
    return str(moto().put_secret_value(SecretId=name, SecretString=json.dumps(doc))["VersionId"])


def _control(method: str, path: str, body: Optional[Dict[str, Any]] = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(
        _env("STARFLEET_TEST_PROXY") + "/__harness/" + path,
        data=data,
        method=method,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read() or b"{}")


def fault(secret_id: str, action: str, times: int = 1, **extra: Any) -> None:
    """Add a fault rule for GetSecretValue of ``secret_id`` (see tests/harness/README.md)."""
    _control("POST", "faults", {"secret_id": secret_id, "action": action, "times": times, **extra})


def clear_faults(secret_id: str) -> None:
    _control("DELETE", f"faults?secret_id={secret_id}")


def count(secret_id: Optional[str] = None, operation: str = "GetSecretValue") -> int:
    """GetSecretValue requests the proxy saw for ``secret_id`` (all secrets when None)."""
    query = "" if secret_id is None else f"?secret_id={secret_id}"
    return int(_control("GET", "counts" + query).get(operation, 0))


def manager(name: str, **kwargs: Any) -> SecretsManager:
    return SecretsManager(name, REGION, **kwargs)


def starfleet_doc(token: str) -> Dict[str, Any]:
    return {
        "STARFLEET": {"SlackToken": token},
        "GitHubSyncWorker": {"my.org": "-----BEGIN KEY-----"},
        "Numbers": {"int": 7, "float": 1.5, "bool": True, "null": None, "list": [1, "two"]},
    }


@pytest.fixture
def secret() -> Callable[..., str]:
    """``secret(doc, prefix="s")`` creates a secret with a unique name and returns the name."""

    def make(doc: Any = None, prefix: str = "s", **kwargs: Any) -> str:
        name = unique(prefix)
        create(name, {} if doc is None and not kwargs else doc, **kwargs)
        return name

    return make


@pytest.fixture
def no_location(monkeypatch: pytest.MonkeyPatch) -> None:
    """No secret location anywhere in the environment."""
    for var in ("STARFLEET_SECRET_ID", "STARFLEET_SECRET_REGION", "STARFLEET_CONFIG", "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def singleton(no_location: None) -> Iterator[SecretsManager]:
    """SECRETS_MANAGER, reset (re-configured from the environment) before and after the test."""
    starfleet_secrets.SECRETS_MANAGER.configure()
    yield starfleet_secrets.SECRETS_MANAGER
    starfleet_secrets.SECRETS_MANAGER.configure()


class Ticker:
    """A pure-Python thread that counts while it can get the GIL."""

    def __init__(self) -> None:
        self.ticks = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.ticks += 1
            time.sleep(0.002)

    def __enter__(self) -> "Ticker":
        self._thread.start()
        time.sleep(0.02)
        self.ticks = 0
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join(5)


#: Code for ``run_python``: read STARFLEET.SlackToken of secret ``{name}`` (``str.format``) in
#: REGION and print its length, or the exception's class, code and message.
READ_IN_CHILD = f"""
import starfleet_secrets
try:
    m = starfleet_secrets.SecretsManager({{name!r}}, {REGION!r})
    print(len(m.secrets["STARFLEET"]["SlackToken"]))
except starfleet_secrets.StarfleetSecretsError as e:
    print(type(e).__name__, e.code, str(e))
"""


def run(argv: List[str], env: Optional[Dict[str, str]] = None, remove: Iterable[str] = (), timeout: float = 30) -> "subprocess.CompletedProcess[str]":
    """Run a process with the test environment (plus ``env``, minus ``remove``)."""
    full = dict(os.environ)
    for k in remove:
        full.pop(k, None)
    full.update(env or {})
    return subprocess.run(argv, env=full, capture_output=True, text=True, timeout=timeout)


def run_python(code: str, env: Optional[Dict[str, str]] = None, remove: Iterable[str] = (), timeout: float = 30) -> "subprocess.CompletedProcess[str]":
    """Run ``code`` in a fresh interpreter with the test environment."""
    return run([sys.executable, "-c", code], env=env, remove=remove, timeout=timeout)
