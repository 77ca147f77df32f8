"""Log records go to `logging` under "starfleet_secrets"; a canary value never leaks."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from typing import Any, Callable, Dict, List, Tuple

import pytest

import starfleet_secrets
from starfleet_secrets import SecretsManager, StarfleetSecretsError, _native
from starfleet_secrets.testing import override_secrets

from conftest import REGION, clear_faults, fault, manager, run_python, unique


def test_records_reach_the_starfleet_secrets_logger(
    secret: Callable[..., str], caplog: pytest.LogCaptureFixture
) -> None:
    name = secret({"v": 1})
    caplog.set_level(logging.DEBUG, logger="starfleet_secrets")
    m = manager(name, ttl=0.2)
    m.secrets
    debug = [r for r in caplog.records if r.levelno == logging.DEBUG and name in r.getMessage()]
    assert debug, caplog.text
    assert all(r.name.startswith("starfleet_secrets") for r in caplog.records)
    # The cache's records come from its modules (core's cache/ folder): starfleet_secrets.cache
    # or a child of it, so a handler on starfleet_secrets.cache gets them.
    assert any(r.name == "starfleet_secrets.cache" or r.name.startswith("starfleet_secrets.cache.") for r in debug)
    # A failed refresh served stale: a warning naming the secret and the code.
    fault(name, "error", times=0, status=500)
    time.sleep(0.3)
    caplog.clear()
    m.secrets
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert any("serving the cached version" in r.getMessage() and name in r.getMessage() for r in warnings), caplog.text
    clear_faults(name)


def test_async_fetch_records_reach_logging_too(secret: Callable[..., str], caplog: pytest.LogCaptureFixture) -> None:
    name = secret({"v": 1})
    caplog.set_level(logging.DEBUG, logger="starfleet_secrets")
    asyncio.run(manager(name).asecrets())
    assert any(name in r.getMessage() for r in caplog.records), caplog.text


def test_silent_by_default(secret: Callable[..., str]) -> None:
    # A library must not print through logging's last-resort handler when the application
    # has not configured logging.
    name = secret({"v": 1})
    code = (
        "import starfleet_secrets as s\n"
        f"m = s.SecretsManager({name!r}, {REGION!r}, ttl=0.1)\n"
        "m.secrets\n"
        "import time; time.sleep(0.2)\n"
        "m.secrets\n"
    )
    fault(name, "error", times=0, status=500)
    out = run_python(code)
    clear_faults(name)
    assert out.returncode == 1  # the first load failed: a SecretsServiceError traceback...
    assert "SecretsServiceError" in out.stderr
    assert "next attempt" not in out.stderr  # ...but no log line on stderr


def test_a_logging_handler_that_reads_the_secret_does_not_deadlock(secret: Callable[..., str]) -> None:
    name = secret({"v": "ok"})
    m = manager(name)
    seen: List[Any] = []

    class Reader(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(m.get("v"))

    handler = Reader(level=logging.DEBUG)
    logger = logging.getLogger("starfleet_secrets")
    logger.addHandler(handler)
    old = logger.level
    logger.setLevel(logging.DEBUG)
    try:
        assert m.secrets == {"v": "ok"}
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old)
    assert seen and set(seen) == {"ok"}


CANARY_CODE = """
import asyncio, logging, sys
logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
import starfleet_secrets as s
from starfleet_secrets.testing import override_secrets
m = s.SecretsManager({name!r}, {region!r}, ttl=0.2)
d = m.secrets
print(repr(m), m.stats(), m.settings())
for path in ("STARFLEET.SlackToken.x", "STARFLEET.Nested.k.deeper", "N.x", "Missing"):
    try:
        m.get(path)
    except s.StarfleetSecretsError as e:
        print(repr(e), str(e), e.args)
try:
    m.secret_binary
except s.StarfleetSecretsError as e:
    print(repr(e), e)
print(asyncio.run(m.aget("N")))
print(repr(m._hit()))
"""


# AWS failures the fault proxy injects on the canary secret: (expected code, action, extra keys).
CANARY_FAULTS: List[Tuple[str, str, Dict[str, Any]]] = [
    ("ACCESS_DENIED", "error", {"status": 400, "code": "AccessDeniedException", "message": "denied"}),
    ("DECRYPTION_FAILED", "error", {"status": 400, "code": "DecryptionFailure"}),
    ("THROTTLED", "throttle", {}),
    ("SERVICE", "error", {"status": 503, "code": "ServiceUnavailable"}),
    ("CREDENTIALS", "error", {"status": 400, "code": "UnrecognizedClientException"}),
]


def _failure(code: str, call: Callable[[], object], m: Any = None) -> List[str]:
    """Run ``call``, require a StarfleetSecretsError with ``code``; its text and the manager's."""
    with pytest.raises(StarfleetSecretsError) as e:
        call()
    err = e.value
    assert err.code == code, f"expected {code}: {err!r}"
    texts = [repr(err), str(err), repr(err.args), f"{err.code} {err.number} {err.transient}"]
    if m is not None:
        texts += [repr(m), str(m.stats())]
    return texts


def _async_failure(code: str, m: SecretsManager) -> List[str]:
    async def fetch() -> Any:
        return await m.aget("STARFLEET.SlackToken")

    return _failure(code, lambda: asyncio.run(fetch()), m)


def _canary_error_paths(name: str) -> List[str]:
    """Every error code the canary secret's managers can hit, each checked; their text.

    Needs ``no_location`` (CONFIG_MISSING) and leaves no fault behind.
    """
    seen: List[str] = []
    token = "STARFLEET.SlackToken"
    # The secret, or the version, does not exist.
    absent = manager(unique("canary-absent"))
    seen += _failure("SECRET_NOT_FOUND", lambda: absent.get(token), absent)
    stage = manager(name, version_stage="NOPE")
    seen += _failure("SECRET_NOT_FOUND", lambda: stage.get(token), stage)
    seen += _async_failure("SECRET_NOT_FOUND", manager(name, version_stage="NOPE"))
    try:
        # AWS failures, each on fresh managers (sync and asyncio) so nothing is served stale.
        for code, action, extra in CANARY_FAULTS:
            fault(name, action, times=0, **extra)
            m = manager(name)
            seen += _failure(code, lambda: m.get(token), m)
            seen += _async_failure(code, manager(name))
            clear_faults(name)
        fault(name, "hang", times=0, hang_ms=5000)
        slow = manager(name, timeout=1)
        seen += _failure("TIMEOUT", lambda: slow.get(token), slow)
    finally:
        clear_faults(name)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"
    refused = manager(name, endpoint_url=closed)
    seen += _failure("NETWORK", lambda: refused.get(token), refused)
    # Bad options, with no location in the environment.
    options: List[Tuple[str, Dict[str, Any]]] = [
        ("CONFIG_MISSING", {}),
        ("CONFIG_MISSING", {"secret_id": name}),
        ("CONFIG_INVALID", {"secret_id": name, "region": "Ohio"}),
        ("CONFIG_INVALID", {"secret_id": name, "region": " "}),
        ("INVALID_ARGUMENT", {"secret_id": name, "region": REGION, "version_stage": "AWSCURRENT", "version_id": "v1"}),
        ("INVALID_ARGUMENT", {"secret_id": name, "region": REGION, "timeout": 0}),
    ]
    for code, kwargs in options:
        bad = SecretsManager(**kwargs)
        seen += _failure(code, lambda: bad.get(token), bad)
    seen += _failure("INVALID_ARGUMENT", lambda: manager(name, ttl=-1))
    seen += _failure("INVALID_ARGUMENT", lambda: manager(name, ttl="soon"))
    ok = manager(name)
    seen += _failure("INVALID_ARGUMENT", lambda: ok.get("STARFLEET..SlackToken"), ok)
    _native.flush_logs()
    return seen


def test_canary_never_appears_outside_the_values(
    secret: Callable[..., str],
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
    no_location: None,
) -> None:
    canary = "CANARY-" + os.urandom(8).hex()
    doc = {"STARFLEET": {"SlackToken": canary, "Nested": {"k": canary}}, "N": 1, "K": [canary]}
    name = secret(doc)
    caplog.set_level(logging.DEBUG, logger="starfleet_secrets")
    seen: List[str] = []
    m = manager(name, ttl=0.2)
    assert m.get("STARFLEET.SlackToken") == canary  # the value itself is readable, of course
    seen += [repr(m), str(m.stats()), str(m.settings())]
    for path in ("STARFLEET.SlackToken.x", "STARFLEET.Nested.k.deeper", "N.x", "Missing", "K.x"):
        with pytest.raises(starfleet_secrets.StarfleetSecretsError) as e:
            m.get(path)
        seen += [repr(e.value), str(e.value), repr(e.value.args)]
    with pytest.raises(starfleet_secrets.StarfleetSecretsError) as e2:
        m.secret_binary
    seen += [repr(e2.value), str(e2.value)]
    # Stale-if-error and a failed refresh (warnings, errors).
    fault(name, "error", times=0, status=500)
    time.sleep(0.3)
    assert m.secrets["N"] == 1
    with pytest.raises(starfleet_secrets.SecretsServiceError) as e3:
        m.refresh()
    seen += [repr(e3.value), str(m.stats())]
    clear_faults(name)
    # A testing override with the canary.
    with override_secrets({"x": canary}, manager=m):
        seen.append(repr(m))
        with pytest.raises(KeyError) as e4:
            m.get("x.y")
        seen += [repr(e4.value), str(e4.value)]
    # Every other error code, on managers of the canary secret.
    seen += _canary_error_paths(name)
    # A separate process with DEBUG logging to stderr and everything printed.
    out = run_python(CANARY_CODE.format(name=name, region=REGION))
    assert out.returncode == 0, out.stderr
    assert "DEBUG:starfleet_secrets" in out.stderr
    seen += [out.stdout, out.stderr]
    captured = capfd.readouterr()
    seen += [captured.out, captured.err]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    for code in {c for c, _, _ in CANARY_FAULTS} | {"SECRET_NOT_FOUND", "TIMEOUT", "NETWORK"}:
        assert any(w.startswith(f"{code}: ") for w in warnings), f"the {code} failure was logged"
    seen += [r.getMessage() for r in caplog.records] + [caplog.text]
    assert any("GetSecretValue" in s for s in seen), "debug logging was exercised"
    for text in seen:
        assert canary not in text, f"canary leaked: {text}"
