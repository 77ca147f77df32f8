"""TTL, `never`, `0` and stale-if-error, seen from Python."""

from __future__ import annotations

import time
from typing import Callable

import pytest

import starfleet_secrets
from starfleet_secrets import SecretsManager

from conftest import REGION, clear_faults, count, fault, manager, moto, put


def test_ttl_expiry_sees_an_update_and_keeps_the_dict_for_the_same_version(secret: Callable[..., str]) -> None:
    name = secret({"v": "one"})
    m = manager(name, ttl=1.0)
    first = m.secrets
    put(name, {"v": "two"})
    assert m.secrets is first, "within the TTL: cached"
    assert count(name) == 1
    time.sleep(1.1)
    second = m.secrets
    assert second == {"v": "two"} and second is not first
    time.sleep(1.1)
    assert m.secrets is second, "refreshed, same VersionId: the same dict"
    assert count(name) == 3
    s = m.stats()
    assert (s["hits"], s["misses"], s["fetches"]) == (1, 3, 3)


def test_ttl_as_a_string_and_from_the_environment(secret: Callable[..., str], monkeypatch: pytest.MonkeyPatch) -> None:
    name = secret({"v": "one"})
    assert manager(name, ttl="0.5").settings()["ttl"] == 0.5
    assert manager(name, ttl="never").settings()["ttl"] == "never"
    assert manager(name, ttl="NEVER").settings()["ttl"] == "never"
    assert manager(name, ttl=0).settings()["ttl"] == 0.0
    assert manager(name).settings()["ttl"] == 300.0
    monkeypatch.setenv("STARFLEET_SECRETS_TTL", "never")
    assert manager(name).settings()["ttl"] == "never"
    assert manager(name, ttl=5).settings()["ttl"] == 5.0, "an argument beats the environment"


def test_never_keeps_the_first_value_until_an_explicit_refresh(secret: Callable[..., str]) -> None:
    name = secret({"v": "one"})
    m = manager(name, ttl="never")
    first = m.secrets
    put(name, {"v": "two"})
    time.sleep(0.3)
    for _ in range(5):
        assert m.secrets is first
    assert count(name) == 1
    m.refresh()
    assert m.secrets == {"v": "two"}
    assert count(name) == 2


def test_zero_fetches_on_every_access(secret: Callable[..., str]) -> None:
    name = secret({})
    m = manager(name, ttl=0)
    for i in range(4):
        assert m.secrets == {}
        assert count(name) == i + 1


def test_stale_if_error_serves_the_last_good_value(secret: Callable[..., str]) -> None:
    name = secret({"v": "good"})
    m = manager(name, ttl=0.3)
    good = m.secrets
    fault(name, "error", times=0, status=500)
    time.sleep(0.4)
    assert m.secrets is good, "refresh failed: the last good value is served"
    calls = count(name)
    assert m.get("v") == "good"
    assert count(name) == calls, "within the backoff: no further calls"
    s = m.stats()
    assert s["failures"] == 1 and s["stale_served"] == 2 and s["last_error"] == "SERVICE"
    # An explicit refresh reports the failure and keeps the value.
    with pytest.raises(starfleet_secrets.SecretsServiceError):
        m.refresh()
    assert m.secrets == {"v": "good"}
    clear_faults(name)
    m.refresh()
    assert m.stats()["last_error"] is None


def test_stale_value_is_bounded_by_max_stale(secret: Callable[..., str]) -> None:
    name = secret({"v": "one"})
    m = manager(name, ttl=0.2, max_stale=0.8)
    m.secrets
    moto().delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
    time.sleep(0.3)
    assert m.secrets == {"v": "one"}
    time.sleep(1.0)
    with pytest.raises(starfleet_secrets.SecretNotFoundError, match=name):
        m.secrets


def test_max_stale_zero_disables_stale_if_error(secret: Callable[..., str]) -> None:
    name = secret({"v": "one"})
    m = manager(name, ttl=0.2, max_stale=0)
    m.secrets
    fault(name, "error", times=0, status=500)
    time.sleep(0.3)
    with pytest.raises(starfleet_secrets.SecretsServiceError):
        m.secrets
    clear_faults(name)


def test_independent_managers_have_independent_caches(secret: Callable[..., str]) -> None:
    name = secret({"v": "one"})
    a = SecretsManager(name, REGION, ttl="never")
    b = SecretsManager(name, REGION, ttl="never")
    assert a.secrets == b.secrets and a.secrets is not b.secrets
    assert count(name) == 2


def test_warm_get_answers_from_the_dict_exactly_as_the_general_path(secret: Callable[..., str]) -> None:
    # get(path) on a warm cache is answered from the kept dict with the path parsed once
    # (the binding's fast path): same objects, one hit per call, the document deciding
    # what exists, and the TTL honoured to the fetch.
    name = secret({"STARFLEET": {"SlackToken": "xoxb-1", "Other": {"k": [1]}}})
    m = manager(name, ttl=1.0)
    assert m.get("STARFLEET.SlackToken") == "xoxb-1"  # the first load
    hits = m.stats()["hits"]
    for _ in range(3):
        assert m.get("STARFLEET.Other") is m.secrets["STARFLEET"]["Other"]
        # A path built at run time (another str object, same text) is the same path.
        assert m.get(".".join(["STARFLEET", "Other", "k"])) is m.secrets["STARFLEET"]["Other"]["k"]
    assert m.stats()["hits"] == hits + 12
    assert m.get("STARFLEET.Nope", default=None) is None
    with pytest.raises(starfleet_secrets.SecretsKeyNotFoundError):
        m.get("STARFLEET.SlackToken.deeper")

    class Text(str):
        pass

    assert m.get(Text("STARFLEET.SlackToken")) == "xoxb-1"  # a str subclass goes the general way

    # The caller changed the shared dict: a key it added that the document lacks is still
    # not found; a key it removed is answered from the document.
    shared = m.secrets["STARFLEET"]
    shared["Added"] = "x"
    with pytest.raises(starfleet_secrets.SecretsKeyNotFoundError):
        m.get("STARFLEET.Added")
    del shared["SlackToken"]
    assert m.get("STARFLEET.SlackToken") == "xoxb-1"

    put(name, {"STARFLEET": {"SlackToken": "xoxb-2"}})
    time.sleep(1.1)
    assert m.get("STARFLEET.SlackToken") == "xoxb-2", "expired: fetched again, not served from the kept dict"
    assert count(name) == 2
    with pytest.raises(starfleet_secrets.SecretsKeyNotFoundError):
        m.get("STARFLEET.Other"), "a path kept from the old version is looked up in the new one"
