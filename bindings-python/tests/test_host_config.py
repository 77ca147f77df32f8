"""A host application's configuration outside the miniature Starfleet: config as a mapping or callable, subclassing,
and ``_secrets`` next to the testing overrides (against moto behind the fault proxy)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Dict, List

import pytest

from conftest import REGION, count
from starfleet_secrets import (
    SecretsConfigurationInvalidError,
    SecretsConfigurationMissingError,
    SecretsInvalidArgumentError,
    SecretsManager,
)
from starfleet_secrets.testing import override_secrets


def starfleet_config(secret_id: str, region: str = REGION) -> Dict[str, Any]:
    return {
        "STARFLEET": {"SlackEnabled": True, "SecretsManager": {"SecretId": secret_id, "SecretRegion": region}},
        "SomeWorker": {"When": object()},  # a host's other stanzas may hold anything
    }


def test_a_mapping_is_read_again_at_each_load(secret: Callable[..., str]) -> None:
    a, b = secret({"v": "a"}), secret({"v": "b"})
    live = starfleet_config(a)
    m = SecretsManager(config=live, ttl="never")
    assert m.get("v") == "a"
    live["STARFLEET"]["SecretsManager"]["SecretId"] = b
    assert m.get("v") == "a", "a hit does not read the configuration"
    m.refresh()
    assert m.get("v") == "b"
    assert m.settings()["secret_id"] == b
    assert count(a) == 1 and count(b) == 1


def test_a_callable_is_called_at_each_load_only(secret: Callable[..., str], tmp_path: Path) -> None:
    a, b = secret({"v": "a"}), secret({"v": "b"})
    calls: List[int] = []
    current: Dict[str, Any] = {"config": starfleet_config(a)}

    def host() -> Any:
        calls.append(1)
        return current["config"]

    m = SecretsManager(config=host, ttl="never")
    assert m.secrets["v"] == "a"
    assert m.secrets["v"] == "a" and m.get("v") == "a"
    assert len(calls) == 1
    current["config"] = starfleet_config(b)
    m.invalidate()
    assert m.secrets["v"] == "b"
    assert len(calls) == 2
    # A callable may return a path.
    (tmp_path / "starfleet.yaml").write_text(f"STARFLEET:\n  SecretsManager:\n    SecretId: {a}\n    SecretRegion: {REGION}\n")
    current["config"] = tmp_path
    m.load_secrets()
    assert m.secrets["v"] == "a"


def test_host_configuration_errors(secret: Callable[..., str]) -> None:
    live = starfleet_config(secret({"v": "a"}))
    m = SecretsManager(config=lambda: live)
    assert m.get("v") == "a"
    live["STARFLEET"].pop("SecretsManager")
    m.invalidate()
    with pytest.raises(SecretsConfigurationMissingError) as missing:
        m.secrets
    assert "STARFLEET.SecretsManager" in str(missing.value)
    live["STARFLEET"]["SecretsManager"] = {"SecretId": "S", "SecretRegion": "Ohio"}
    with pytest.raises(SecretsConfigurationInvalidError) as invalid:
        m.load_secrets()
    assert "STARFLEET.SecretsManager.SecretRegion" in str(invalid.value)
    live["STARFLEET"]["SecretsManager"] = {"SecretId": object(), "SecretRegion": REGION}
    with pytest.raises(SecretsConfigurationInvalidError) as odd:
        m.load_secrets()
    assert "STARFLEET.SecretsManager.SecretId" in str(odd.value) and "object" in str(odd.value)
    with pytest.raises(SecretsInvalidArgumentError):
        SecretsManager(config=42)  # type: ignore[arg-type]
    with pytest.raises(SecretsInvalidArgumentError):
        SecretsManager(config=lambda: 42).secrets  # type: ignore[arg-type,return-value]

    def broken() -> Dict[str, Any]:
        raise LookupError("the host's own failure")

    with pytest.raises(LookupError):
        SecretsManager(config=broken).secrets


def test_subclasses_take_options_in_init(secret: Callable[..., str]) -> None:
    name = secret({"v": "sub"})

    class Configured(SecretsManager):
        def __init__(self) -> None:
            super().__init__(name, REGION, ttl=60)

    class Plain(SecretsManager):
        pass

    assert Configured().get("v") == "sub"
    assert Configured().settings()["ttl"] == 60
    assert Plain(secret_id=name, region=REGION).get("v") == "sub"


def test_secrets_attribute_and_overrides(secret: Callable[..., str]) -> None:
    m = SecretsManager(secret({"v": "aws"}), REGION)
    assert m._secrets is None
    assert m.secrets["v"] == "aws"
    assert m._secrets is m.secrets, "reading gives the document being served"
    d = {"v": "assigned"}
    m._secrets = d
    assert m.secrets is d and m.get("v") == "assigned"
    with override_secrets({"v": "override"}, manager=m):
        assert m.get("v") == "override"
        m._secrets = None  # the override stays until its block ends
        assert m.get("v") == "override"
    assert m.stats()["version_id"] is None, "assigning None forgot the cached value"
    assert m.get("v") == "aws"
    with override_secrets({"v": "override"}, manager=m):
        m._secrets = d  # assigned inside a block: served until it is removed
        assert m.secrets is d
    assert m.secrets is d
    m._secrets = None
    assert m.get("v") == "aws"
    with pytest.raises(SecretsInvalidArgumentError):
        m._secrets = "x"  # type: ignore[assignment]
    with pytest.raises(SecretsInvalidArgumentError):
        m._secrets = {"not json": object()}
