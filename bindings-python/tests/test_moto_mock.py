"""Next to moto's in-process mock (``mock_aws()``), against the harness: an explicit
``endpoint_url`` is honoured as ``boto3.client(endpoint_url=...)`` honours it, and no
background refresh goes around the mock."""

from __future__ import annotations

import os
import time
from typing import Callable

import pytest

from conftest import REGION, count, manager
from starfleet_secrets import SecretsManager


def test_an_explicit_endpoint_url_inside_mock_aws_reads_from_that_endpoint(
    secret: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto import mock_aws

    name = secret({"v": "from-the-endpoint"})
    endpoint = os.environ["STARFLEET_TEST_ENDPOINT"]
    # Only the argument names the endpoint (the harness also sets it in the environment).
    for var in ("AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(var, raising=False)
    with mock_aws():
        m = SecretsManager(name, REGION, endpoint_url=endpoint)
        assert m._mocked()  # the fetch goes through boto3, on this thread
        assert m.get("v") == "from-the-endpoint"
    assert count(name) == 1, "the harness served the read"


def test_no_background_refresh_goes_around_the_mock(secret: Callable[..., str]) -> None:
    """The value came through the SDK before the mock started; inside the mock, a read past
    the refresh-ahead point must not start a background refresh through the SDK (to the
    endpoint moto cannot intercept): it is served from the cache, and the next fetch goes
    through the mock once the TTL is over."""
    from moto import mock_aws

    name = secret({"v": "from-the-harness"})
    m = manager(name, ttl=3, refresh_ahead=0.1, expiry_jitter=0)
    assert m.get("v") == "from-the-harness"
    time.sleep(0.5)
    with mock_aws():
        assert m.get("v") == "from-the-harness"
        time.sleep(0.6)
        assert m.get("v") == "from-the-harness"
    stats = m.stats()
    assert (stats["refreshes_ahead"], stats["fetches"]) == (0, 1), stats
    assert count(name) == 1, "a background refresh reached AWS around the mock"
