"""Starfleet's secrets tests, in miniature: run through the adapter in starfleet/utils/secrets.py."""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any, Dict

import pytest
from moto import mock_aws

from starfleet.utils.configuration import CONFIGURATION_DIRS, STARFLEET_CONFIGURATION
from starfleet.utils.secrets import SECRETS_MANAGER, SecretsConfigurationMissingError
from starfleet.worker_ships.github_sync import private_key_for, slack_token
from starfleet_secrets import SecretNotFoundError, SecretsInvalidArgumentError


def test_the_moto_under_test_is_the_expected_one() -> None:
    """scripts/test-python runs this suite with two moto versions; make sure it did."""
    import moto

    expected = os.environ.get("STARFLEET_EXPECT_MOTO")
    if expected:
        assert moto.__version__ == expected


def test_mock_aws_serves_the_adapter(test_configuration: Dict[str, Any], aws_secretsmanager: Any) -> None:
    """moto's in-process mock: the secret made with boto3 is what the adapter reads."""
    aws_secretsmanager.create_secret(
        Name="Starfleet", SecretString=json.dumps({"STARFLEET": {"SlackToken": "from-the-mock"}})
    )
    try:
        assert slack_token() == "from-the-mock"
        assert SECRETS_MANAGER.get("STARFLEET.SlackToken") == "from-the-mock"
        before = SECRETS_MANAGER.stats()["fetches"]
        aws_secretsmanager.put_secret_value(
            SecretId="Starfleet", SecretString=json.dumps({"STARFLEET": {"SlackToken": "rotated"}})
        )
        SECRETS_MANAGER.load_secrets()  # Starfleet's API: fetch now
        assert slack_token() == "rotated"
        # The cache is the core's: one more fetch, and hits are hits.
        assert SECRETS_MANAGER.stats()["fetches"] == before + 1
        assert SECRETS_MANAGER.secrets is SECRETS_MANAGER.secrets
    finally:
        SECRETS_MANAGER._secrets = None


def test_mock_aws_errors_are_typed(test_configuration: Dict[str, Any], aws_secretsmanager: Any) -> None:
    try:
        with pytest.raises(SecretNotFoundError) as raised:
            SECRETS_MANAGER.load_secrets()
        assert "Starfleet" in str(raised.value) and "us-east-2" in str(raised.value)
        assert raised.value.code == "SECRET_NOT_FOUND"
    finally:
        SECRETS_MANAGER._secrets = None


def test_mock_aws_asyncio(test_configuration: Dict[str, Any], aws_credentials: None) -> None:
    with mock_aws():
        import boto3

        boto3.client("secretsmanager", region_name="us-east-2").create_secret(
            Name="Starfleet", SecretString=json.dumps({"STARFLEET": {"SlackToken": "async"}})
        )
        try:
            assert asyncio.run(SECRETS_MANAGER.aget("STARFLEET", "SlackToken")) == "async"
            assert asyncio.run(SECRETS_MANAGER.asecrets())["STARFLEET"]["SlackToken"] == "async"
        finally:
            SECRETS_MANAGER._secrets = None


def test_secrets_fixture_and_in_place_mutation(more_orgs: Dict[str, Any]) -> None:
    """``_secrets``: production code sees what the fixtures put in the yielded dict."""
    assert SECRETS_MANAGER.secrets is more_orgs
    assert private_key_for("my-org").endswith("lol\n")
    assert private_key_for("other-org").endswith("other\n")
    assert slack_token() == "lolsecret"
    assert SECRETS_MANAGER.get("GitHubSyncWorker", "other-org").endswith("other\n")
    more_orgs["GitHubSyncWorker"]["late-org"] = "late"
    assert SECRETS_MANAGER.get("GitHubSyncWorker", "late-org") == "late"
    assert asyncio.run(SECRETS_MANAGER.aget("GitHubSyncWorker", "late-org")) == "late"
    SECRETS_MANAGER.load_secrets()  # serves the assigned dict instead of fetching
    assert SECRETS_MANAGER.secrets is more_orgs


def test_secrets_hook_never_fetches(test_configuration: Dict[str, Any]) -> None:
    before = SECRETS_MANAGER.stats()
    assert SECRETS_MANAGER._secrets is None
    assert SECRETS_MANAGER.stats() == before
    with pytest.raises(SecretsInvalidArgumentError):
        SECRETS_MANAGER._secrets = ["not", "a", "dict"]  # type: ignore[assignment]
    assert SECRETS_MANAGER._secrets is None


def test_missing_secrets_manager_configuration(test_configuration: Dict[str, Any]) -> None:
    """Starfleet's own test: pop the stanza from the live configuration, then load."""
    assert test_configuration["STARFLEET"]["SlackEnabled"] is True
    test_configuration["STARFLEET"].pop("SecretsManager")
    SECRETS_MANAGER._secrets = None
    with pytest.raises(SecretsConfigurationMissingError):
        SECRETS_MANAGER.load_secrets()


def test_switched_configuration_directory(test_configuration: Dict[str, Any], aws_credentials: None) -> None:
    """The location follows the live configuration: a value for the old one is not served."""
    with mock_aws():
        import boto3

        boto3.client("secretsmanager", region_name="us-east-2").create_secret(
            Name="Starfleet", SecretString=json.dumps({"STARFLEET": {"SlackToken": "east"}})
        )
        boto3.client("secretsmanager", region_name="us-west-2").create_secret(
            Name="StarfleetOther", SecretString=json.dumps({"STARFLEET": {"SlackToken": "west"}})
        )
        try:
            assert slack_token() == "east"
            STARFLEET_CONFIGURATION.switch_to(CONFIGURATION_DIRS / "other_account")
            SECRETS_MANAGER.invalidate()  # the next access is a load: the configuration is read
            assert slack_token() == "west"
            assert SECRETS_MANAGER.settings()["region"] == "us-west-2"
        finally:
            SECRETS_MANAGER._secrets = None


def test_mock_aws_with_refresh_ahead_refreshes_through_the_mock(aws_secretsmanager: Any) -> None:
    """A background refresh would call AWS on the library's threads, around moto's in-process
    mock: while the mock serves the fetches, refresh-ahead is set aside and values still
    refresh on access, through the mock."""
    import time

    from starfleet_secrets import SecretsManager

    aws_secretsmanager.create_secret(Name="Ahead", SecretString=json.dumps({"token": "v1"}))
    m = SecretsManager("Ahead", "us-east-2", ttl=1, refresh_ahead=0.1, expiry_jitter=0)
    assert m.get("token") == "v1"
    time.sleep(0.3)
    assert m.get("token") == "v1"
    time.sleep(0.2)
    assert (m.stats()["refreshes_ahead"], m.stats()["fetches"]) == (0, 1)
    aws_secretsmanager.put_secret_value(SecretId="Ahead", SecretString=json.dumps({"token": "v2"}))
    time.sleep(0.6)
    assert m.get("token") == "v2"  # expired, refreshed on access through the mock
    assert (m.stats()["refreshes_ahead"], m.stats()["fetches"], m.stats()["failures"]) == (0, 2, 0)
