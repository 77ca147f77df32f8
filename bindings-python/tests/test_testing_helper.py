"""starfleet_secrets.testing: serve a dict in place of AWS, undone on exit."""

from __future__ import annotations

import json
import textwrap
from typing import Callable

import pytest

import starfleet_secrets
from starfleet_secrets import SECRETS_MANAGER, SecretsManager
from starfleet_secrets.testing import override_secrets

from conftest import REGION, count, manager


def test_override_serves_the_dict_without_any_location_or_call(singleton: SecretsManager) -> None:
    before = count()
    with override_secrets({"STARFLEET": {"SlackToken": "xoxb-fake"}}) as m:
        assert m is SECRETS_MANAGER
        assert SECRETS_MANAGER.secrets["STARFLEET"]["SlackToken"] == "xoxb-fake"
        assert SECRETS_MANAGER.get("STARFLEET.SlackToken") == "xoxb-fake"
        assert SECRETS_MANAGER.secrets is SECRETS_MANAGER.secrets
        SECRETS_MANAGER.refresh()
        SECRETS_MANAGER.load_secrets()
        assert SECRETS_MANAGER.secrets == {"STARFLEET": {"SlackToken": "xoxb-fake"}}
        with pytest.raises(KeyError):
            SECRETS_MANAGER.get("STARFLEET.Missing")
    assert count() == before, "no request reached the server"
    # Undone: back to "no location configured".
    with pytest.raises(starfleet_secrets.SecretsConfigurationMissingError):
        SECRETS_MANAGER.secrets


def test_overrides_nest_and_restore_the_cached_value(secret: Callable[..., str]) -> None:
    name = secret({"v": "real"})
    m = manager(name, ttl="never")
    assert m.secrets == {"v": "real"}
    with override_secrets({"v": "outer"}, manager=m):
        assert m.secrets == {"v": "outer"}
        with override_secrets({"v": "inner"}, manager=m):
            assert m.get("v") == "inner"
        assert m.get("v") == "outer"
        # configure() keeps the override in force.
        m.configure(name, REGION, ttl="never")
        assert m.get("v") == "outer"
    m.configure(name, REGION, ttl="never")
    assert m.secrets == {"v": "real"}
    assert count(name) == 2  # the first load and the one after configure(), none in between


def test_overrides_are_labelled_and_undone_innermost_first(secret: Callable[..., str]) -> None:
    # The tokens under override_secrets (the core's stack, as Node's pin/unpin), used directly.
    name = secret({"v": "real"})
    m = manager(name)
    outer = m._pin_json(json.dumps({"v": "outer"}))
    inner = m._pin_binary(b"inner")
    assert "testing_overrides=2" in repr(m) and m.stats()["testing_overrides"] == 2
    with pytest.raises(starfleet_secrets.SecretFormatError, match=r"\(testing override\)"):
        m.secrets  # the label names the override in errors, as in Node
    with pytest.raises(starfleet_secrets.SecretsInvalidArgumentError, match="innermost first"):
        m._unpin(outer)  # out of order: refused, nothing changes
    assert m.secret_binary == b"inner"
    m._unpin(inner)
    assert m.get("v") == "outer"
    m._unpin(outer)
    assert m.get("v") == "real" and "testing_overrides" not in repr(m)
    assert m.stats()["testing_overrides"] == 0
    with pytest.raises(starfleet_secrets.SecretsInvalidArgumentError, match="no such testing override"):
        m._unpin(outer)  # unbalanced


def test_exit_on_exception_undoes_the_override(secret: Callable[..., str]) -> None:
    name = secret({"v": "real"})
    m = manager(name)
    with pytest.raises(RuntimeError):
        with override_secrets({"v": "fake"}, manager=m):
            raise RuntimeError("boom")
    assert m.secrets == {"v": "real"}


def test_binary_override_and_validation() -> None:
    m = SecretsManager("Anything", REGION)
    with override_secrets(b"\x00raw", manager=m):
        assert m.secret_binary == b"\x00raw"
        with pytest.raises(starfleet_secrets.SecretFormatError):
            m.secrets
    with pytest.raises(starfleet_secrets.SecretFormatError, match="an array"):
        with override_secrets([1, 2], manager=m):  # type: ignore[arg-type]
            pass
    # A failed override leaves nothing behind.
    with override_secrets({"ok": True}, manager=m):
        assert m.secrets == {"ok": True}


def test_fake_secrets_fixture(fake_secrets: Callable[..., SecretsManager], singleton: SecretsManager) -> None:
    served = fake_secrets({"STARFLEET": {"SlackToken": "from-fixture"}})
    assert served is SECRETS_MANAGER
    assert SECRETS_MANAGER.secrets["STARFLEET"]["SlackToken"] == "from-fixture"
    other = SecretsManager("Other", REGION)
    fake_secrets({"x": 1}, manager=other)
    assert other.get("x") == 1


def test_fixture_is_registered_by_the_plugin_and_undone_after_the_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        textwrap.dedent(
            """
            import pytest
            import starfleet_secrets
            from starfleet_secrets import SECRETS_MANAGER

            def worker():
                return SECRETS_MANAGER.secrets["STARFLEET"]["SlackToken"]

            def test_a_worker(fake_secrets):
                fake_secrets({"STARFLEET": {"SlackToken": "xoxb-test"}})
                assert worker() == "xoxb-test"

            def test_after(monkeypatch):
                for v in ("STARFLEET_SECRET_ID", "STARFLEET_SECRET_REGION", "STARFLEET_CONFIG"):
                    monkeypatch.delenv(v, raising=False)
                SECRETS_MANAGER.configure()
                with pytest.raises(starfleet_secrets.SecretsConfigurationMissingError):
                    worker()
            """
        )
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
