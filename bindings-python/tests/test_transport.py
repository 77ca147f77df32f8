"""HTTPS with certificate verification: the harness's TLS listener, the trusted-roots
variables, and a typed refusal (never a fallback to no verification) when they are wrong.

The roots are read once per SDK client of a process, so each case runs in a fresh
interpreter with its own environment.
"""

from __future__ import annotations

import os
from typing import Callable, Dict, Tuple

from conftest import READ_IN_CHILD as READ, count, run_python, starfleet_doc


def _read(name: str, env: Dict[str, str], remove: Tuple[str, ...] = ()) -> str:
    out = run_python(READ.format(name=name), env=env, remove=remove)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_the_default_endpoint_is_https_with_verification(secret: Callable[..., str]) -> None:
    assert os.environ["AWS_ENDPOINT_URL_SECRETS_MANAGER"].startswith("https://")
    name = secret(starfleet_doc("xoxb-tls"))
    assert _read(name, {}) == str(len("xoxb-tls"))
    assert count(name) == 1


def test_wrong_roots_are_a_network_error_and_nothing_is_sent(secret: Callable[..., str]) -> None:
    name = secret(starfleet_doc("xoxb-tls"))
    wrong = os.environ["STARFLEET_TEST_WRONG_CA"]
    for var, other in (("AWS_CA_BUNDLE", "SSL_CERT_FILE"), ("SSL_CERT_FILE", "AWS_CA_BUNDLE")):
        line = _read(name, {var: wrong}, remove=(other,))
        kind, code, message = line.split(" ", 2)
        assert (kind, code) == ("SecretsNetworkError", "NETWORK"), line
        assert "certificate" in message, line
    assert count(name) == 0  # refused at the handshake: no request went out unverified


def test_unreadable_ca_bundle_is_a_configuration_error(secret: Callable[..., str]) -> None:
    name = secret(starfleet_doc("xoxb-tls"))
    line = _read(name, {"AWS_CA_BUNDLE": "/nonexistent/ca.pem"})
    assert line.startswith("SecretsConfigurationInvalidError CONFIG_INVALID"), line
    assert "AWS_CA_BUNDLE (/nonexistent/ca.pem)" in line
