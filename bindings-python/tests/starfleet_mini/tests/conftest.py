"""Starfleet's test fixtures, in miniature (the patterns of Starfleet's own tests/conftest.py)."""

from __future__ import annotations

import os
from typing import Any, Dict, Iterator

import boto3
import pytest
from moto import mock_aws

from starfleet.utils.configuration import CONFIGURATION_DIRS, STARFLEET_CONFIGURATION


@pytest.fixture
def test_configuration() -> Iterator[Dict[str, Any]]:
    """The live configuration dict, loaded from the test configuration directory."""
    STARFLEET_CONFIGURATION.switch_to(CONFIGURATION_DIRS / "base")
    yield STARFLEET_CONFIGURATION.config
    STARFLEET_CONFIGURATION.switch_to(CONFIGURATION_DIRS / "base")


@pytest.fixture
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials, and no endpoint override: Starfleet's environment has none."""
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SECRETS_MANAGER"):
        monkeypatch.delenv(name, raising=False)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SECURITY_TOKEN", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-2")


@pytest.fixture
def aws_secretsmanager(aws_credentials: None) -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("secretsmanager", region_name="us-east-2")


@pytest.fixture
def test_secrets() -> Iterator[Dict[str, Any]]:
    """Starfleet's secrets fixture: pokes ``_secrets`` and restores it."""
    from starfleet.utils.secrets import SECRETS_MANAGER

    old = SECRETS_MANAGER._secrets
    SECRETS_MANAGER._secrets = {"STARFLEET": {"SlackToken": "lolsecret"}}

    yield SECRETS_MANAGER.secrets

    SECRETS_MANAGER._secrets = old
    assert SECRETS_MANAGER._secrets == old


@pytest.fixture
def github_sync_secrets(test_secrets: Dict[str, Any]) -> Dict[str, Any]:
    """A worker's fixture built on it: mutates the yielded dict in place."""
    test_secrets.update({"GitHubSyncWorker": {"my-org": "-----BEGIN RSA PRIVATE KEY-----\nlol\n"}})
    return test_secrets


@pytest.fixture
def more_orgs(github_sync_secrets: Dict[str, Any]) -> Dict[str, Any]:
    github_sync_secrets["GitHubSyncWorker"]["other-org"] = "-----BEGIN RSA PRIVATE KEY-----\nother\n"
    return github_sync_secrets


def pytest_report_header() -> str:
    import moto

    return f"miniature Starfleet: moto {moto.__version__}, PYTHONPATH={os.environ.get('PYTHONPATH', '')}"
