"""Log records go to `logging` under "starfleet_secrets"; a canary value never leaks."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from typing import Any, Callable, List

import pytest

import starfleet_secrets
from starfleet_secrets.testing import override_secrets

from conftest import REGION, clear_faults, fault, manager, run_python


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
    assert any(r.name == "starfleet_secrets.cache" for r in debug)
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


def test_canary_never_appears_outside_the_values(
    secret: Callable[..., str], caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
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
    # A separate process with DEBUG logging to stderr and everything printed.
    out = run_python(CANARY_CODE.format(name=name, region=REGION))
    assert out.returncode == 0, out.stderr
    assert "DEBUG:starfleet_secrets" in out.stderr
    seen += [out.stdout, out.stderr]
    captured = capfd.readouterr()
    seen += [captured.out, captured.err]
    seen += [r.getMessage() for r in caplog.records] + [caplog.text]
    assert any("GetSecretValue" in s for s in seen), "debug logging was exercised"
    for text in seen:
        assert canary not in text, f"canary leaked: {text}"
