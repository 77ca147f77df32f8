"""Every exception class, each triggered through a real condition."""

from __future__ import annotations

import pickle
import socket
import time
from pathlib import Path
from typing import Callable, Dict, Type

import pytest

import starfleet_secrets
from starfleet_secrets import SecretsManager, StarfleetSecretsError, _native

from conftest import REGION, clear_faults, count, fault, manager, run_python

CLASSES: Dict[str, Type[StarfleetSecretsError]] = {
    "CONFIG_MISSING": starfleet_secrets.SecretsConfigurationMissingError,
    "CONFIG_INVALID": starfleet_secrets.SecretsConfigurationInvalidError,
    "SECRET_NOT_FOUND": starfleet_secrets.SecretsNotFoundError,
    "ACCESS_DENIED": starfleet_secrets.SecretsAccessDeniedError,
    "DECRYPTION_FAILED": starfleet_secrets.SecretsDecryptionFailedError,
    "CREDENTIALS": starfleet_secrets.SecretsCredentialsError,
    "THROTTLED": starfleet_secrets.SecretsThrottledError,
    "TIMEOUT": starfleet_secrets.SecretsTimeoutError,
    "NETWORK": starfleet_secrets.SecretsNetworkError,
    "SERVICE": starfleet_secrets.SecretsServiceError,
    "SECRET_FORMAT": starfleet_secrets.SecretsFormatError,
    "KEY_NOT_FOUND": starfleet_secrets.SecretsKeyNotFoundError,
    "INVALID_ARGUMENT": starfleet_secrets.SecretsInvalidArgumentError,
    "INTERNAL": starfleet_secrets.SecretsInternalError,
}


ALIASES = {
    "SecretNotFoundError": "SecretsNotFoundError",
    "SecretAccessDeniedError": "SecretsAccessDeniedError",
    "SecretDecryptionError": "SecretsDecryptionFailedError",
    "SecretFormatError": "SecretsFormatError",
    "SecretKeyNotFoundError": "SecretsKeyNotFoundError",
}


def class_name(code: str) -> str:
    """The documented naming rule (starfleet_secrets._errors): Secrets + CamelCase code + Error,
    a leading SECRET_ dropped, CONFIG spelled Configuration."""
    words = code.split("_")
    if words[0] == "SECRET" and len(words) > 1:
        words = words[1:]
    return "Secrets" + "".join("Configuration" if w == "CONFIG" else w.capitalize() for w in words) + "Error"


def test_the_code_list_matches_the_shared_table() -> None:
    # tests/vectors/error-codes.json is checked against core/src/error.rs by the Rust suite;
    # here the Python side is checked against it, by name, number and transient flag.
    import json

    table = json.loads((Path(__file__).resolve().parents[2] / "tests/vectors/error-codes.json").read_text())["codes"]
    expected = [(e["code"], e["number"], e["transient"]) for e in table]
    assert [tuple(c) for c in _native.codes()] == expected
    from starfleet_secrets import _errors

    assert sorted(_errors._BY_CODE) == sorted(e[0] for e in expected)
    for code, number, transient in expected:
        cls = _errors._BY_CODE[code]
        assert (cls.code, cls.number, cls.transient) == (code, number, transient)
        assert cls.__name__ == class_name(code), f"{cls.__name__} does not follow the naming rule"
        assert cls.__name__ in starfleet_secrets.__all__
    assert class_name("CONFIG_MISSING") == "SecretsConfigurationMissingError", "Starfleet's name"
    for old, new in ALIASES.items():
        assert getattr(starfleet_secrets, old) is getattr(starfleet_secrets, new), old
        assert old in starfleet_secrets.__all__


def raised(call: Callable[[], object]) -> StarfleetSecretsError:
    with pytest.raises(StarfleetSecretsError) as e:
        call()
    return e.value


def test_one_class_per_core_code_with_stable_attributes() -> None:
    core = _native.codes()
    assert [c for c, _, _ in core] == list(CLASSES)
    for code, number, transient in core:
        cls = CLASSES[code]
        assert cls.code == code and cls.number == number and cls.transient == transient
        assert issubclass(cls, StarfleetSecretsError)
        assert cls.__module__ == "starfleet_secrets._errors"
        assert getattr(starfleet_secrets, cls.__name__) is cls
    assert issubclass(starfleet_secrets.SecretKeyNotFoundError, KeyError)
    assert issubclass(starfleet_secrets.SecretsInvalidArgumentError, ValueError)
    assert starfleet_secrets.SecretsConfigurationMissingError.__name__ == "SecretsConfigurationMissingError"


def test_config_missing(no_location: None) -> None:
    e = raised(lambda: SecretsManager().secrets)
    assert type(e) is starfleet_secrets.SecretsConfigurationMissingError
    assert e.code == "CONFIG_MISSING" and e.number == 1 and not e.transient
    for place in ("argument secret_id", "STARFLEET_SECRET_ID", "STARFLEET_CONFIG"):
        assert place in str(e)
    # The region can be missing on its own.
    e = raised(lambda: SecretsManager("JustAName").secrets)
    assert type(e) is starfleet_secrets.SecretsConfigurationMissingError and "no region" in str(e)


def test_config_invalid(tmp_path: Path, no_location: None) -> None:
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("STARFLEET:\n  SecretsManager:\n    SecretId: X\n    SecretRegion: Ohio\n")
    e = raised(lambda: SecretsManager(config=cfg).secrets)
    assert type(e) is starfleet_secrets.SecretsConfigurationInvalidError
    assert "bad.yaml" in str(e) and "SecretRegion" in str(e)
    cfg.write_text("STARFLEET: [unclosed\n")
    e = raised(lambda: SecretsManager(config=cfg).secrets)
    assert type(e) is starfleet_secrets.SecretsConfigurationInvalidError and "bad.yaml" in str(e)
    e = raised(lambda: SecretsManager("X", "Ohio").secrets)
    assert type(e) is starfleet_secrets.SecretsConfigurationInvalidError and "argument region" in str(e)


def test_config_invalid_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STARFLEET_SECRETS_TTL", "soon")
    e = raised(lambda: SecretsManager("X", REGION).secrets)
    assert type(e) is starfleet_secrets.SecretsConfigurationInvalidError and "STARFLEET_SECRETS_TTL" in str(e)


def test_secret_not_found_names_secret_and_region() -> None:
    from conftest import unique

    name = unique("absent")
    m = manager(name)
    e = raised(lambda: m.secrets)
    assert type(e) is starfleet_secrets.SecretNotFoundError
    assert name in str(e) and REGION in str(e) and "ResourceNotFoundException" in str(e)
    # Backoff: a hot loop on a failing first load makes no further calls.
    for _ in range(20):
        assert type(raised(lambda: m.secrets)) is starfleet_secrets.SecretNotFoundError
    assert count(name) == 1


@pytest.mark.parametrize(
    ("aws_code", "code"),
    [
        ("AccessDeniedException", "ACCESS_DENIED"),
        ("DecryptionFailure", "DECRYPTION_FAILED"),
        ("KMSAccessDeniedException", "DECRYPTION_FAILED"),
        ("UnrecognizedClientException", "CREDENTIALS"),
        ("ExpiredTokenException", "CREDENTIALS"),
        ("InternalServiceError", "SERVICE"),
    ],
)
def test_aws_error_codes_injected_by_the_proxy(secret: Callable[..., str], aws_code: str, code: str) -> None:
    name = secret({"v": 1})
    fault(name, "error", times=0, status=400 if code != "SERVICE" else 500, code=aws_code, message="injected")
    e = raised(lambda: manager(name).secrets)
    assert type(e) is CLASSES[code], repr(e)
    assert e.code == code and aws_code in str(e) and name in str(e)
    clear_faults(name)


def test_throttled_after_retries(secret: Callable[..., str]) -> None:
    name = secret({"v": 1})
    fault(name, "throttle", times=0)
    e = raised(lambda: manager(name).secrets)
    assert type(e) is starfleet_secrets.SecretsThrottledError and e.transient
    assert count(name) == 3  # the core's retries, then the error
    clear_faults(name)
    # One throttle is retried away.
    fault(name, "throttle", times=1)
    assert manager(name).secrets == {"v": 1}


def test_timeout_when_the_server_never_answers(secret: Callable[..., str]) -> None:
    name = secret({"v": 1})
    fault(name, "hang", times=0, hang_ms=20000)
    started = time.monotonic()
    e = raised(lambda: manager(name, timeout=1).secrets)
    elapsed = time.monotonic() - started
    assert type(e) is starfleet_secrets.SecretsTimeoutError and e.transient
    assert elapsed < 3, elapsed
    clear_faults(name)


def test_network_error_on_a_closed_port() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    e = raised(lambda: SecretsManager("Any", REGION, endpoint_url=f"http://127.0.0.1:{port}").secrets)
    assert type(e) is starfleet_secrets.SecretsNetworkError
    assert "refused" in str(e).lower()


def test_network_error_on_reset_connections(secret: Callable[..., str]) -> None:
    name = secret({"v": 1})
    fault(name, "reset", times=0)
    e = raised(lambda: manager(name).secrets)
    assert type(e) is starfleet_secrets.SecretsNetworkError
    clear_faults(name)


def test_credentials_missing_in_a_fresh_process() -> None:
    code = (
        "import starfleet_secrets as s\n"
        f"m = s.SecretsManager('Any', {REGION!r})\n"
        "try:\n"
        "    m.secrets\n"
        "except s.StarfleetSecretsError as e:\n"
        "    print(type(e).__name__, e.code, e)\n"
    )
    started = time.monotonic()
    out = run_python(
        code,
        remove=["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"],
        env={"AWS_EC2_METADATA_DISABLED": "true"},
    )
    assert out.stdout.startswith("SecretsCredentialsError CREDENTIALS "), out.stdout + out.stderr
    assert time.monotonic() - started < 10


def test_secret_format(secret: Callable[..., str]) -> None:
    for text, kind in (("[1,2]", "an array"), ('"just text"', "a string"), ("not json {", "not valid JSON")):
        name = secret(text=text)
        e = raised(lambda: manager(name).secrets)
        assert type(e) is starfleet_secrets.SecretFormatError
        assert kind in str(e) and name in str(e)
        assert "just text" not in str(e) and "not json" not in str(e)


def test_key_not_found_is_a_key_error(secret: Callable[..., str]) -> None:
    name = secret({"STARFLEET": {"SlackToken": "tok"}})
    m = manager(name)
    with pytest.raises(KeyError) as e:
        m.get("STARFLEET.Missing")
    err = e.value
    assert type(err) is starfleet_secrets.SecretKeyNotFoundError and err.code == "KEY_NOT_FOUND"
    assert str(err) == f"secret {name}: key path STARFLEET.Missing not found: STARFLEET has no key Missing"
    e2 = raised(lambda: m.get("STARFLEET.SlackToken.deeper"))
    assert "STARFLEET.SlackToken is a string" in str(e2) and "tok" not in str(e2)
    # The dict itself raises plain KeyError, as Starfleet's did.
    with pytest.raises(KeyError):
        m.secrets["Nope"]


def test_invalid_argument_from_a_real_call(secret: Callable[..., str]) -> None:
    name = secret({"v": 1})
    e = raised(lambda: manager(name).get("v..w"))
    assert type(e) is starfleet_secrets.SecretsInvalidArgumentError and isinstance(e, ValueError)
    assert count(name) == 0, "arguments are checked before any call"


def test_internal_when_the_process_is_out_of_file_descriptors() -> None:
    # The core cannot start its I/O runtime without descriptors: a real INTERNAL condition.
    code = (
        "import os, resource\n"
        "import starfleet_secrets as s\n"
        f"m = s.SecretsManager('Any', {REGION!r})\n"
        "resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))\n"
        "fds = []\n"
        "try:\n"
        "    while True:\n"
        "        fds.append(os.open(os.devnull, os.O_RDONLY))\n"
        "except OSError:\n"
        "    pass\n"
        "try:\n"
        "    m.secrets\n"
        "except s.StarfleetSecretsError as e:\n"
        "    print(type(e).__name__, e.code, e)\n"
    )
    out = run_python(code)
    assert out.stdout.startswith("SecretsInternalError INTERNAL cannot start the I/O runtime"), out.stdout + out.stderr


def test_exceptions_pickle_and_repr_cleanly(secret: Callable[..., str]) -> None:
    e = raised(lambda: manager(secret({"v": 1})).get("missing"))
    copy = pickle.loads(pickle.dumps(e))
    assert type(copy) is type(e) and str(copy) == str(e) and copy.code == e.code
    assert repr(e).startswith("SecretsKeyNotFoundError(")
