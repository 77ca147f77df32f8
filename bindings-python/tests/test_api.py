"""Every method of SecretsManager / SECRETS_MANAGER against the real harness."""

from __future__ import annotations

import base64
import json
import importlib.metadata
import os
import sys
from pathlib import Path
from typing import Any, Callable

import pytest

import starfleet_secrets
from starfleet_secrets import SECRETS_MANAGER, SecretsManager

from conftest import REGION, REPO, count, create, manager, moto, put, run, starfleet_doc, unique


def test_secrets_is_a_dict_converted_like_json_loads(secret: Callable[..., str]) -> None:
    name = secret(starfleet_doc("xoxb-1"))
    m = manager(name)
    d = m.secrets
    assert type(d) is dict
    assert d == starfleet_doc("xoxb-1")
    assert d["STARFLEET"]["SlackToken"] == "xoxb-1"
    n = d["Numbers"]
    assert (type(n["int"]), type(n["float"]), n["bool"], n["null"], n["list"]) == (int, float, True, None, [1, "two"])
    # The library reached moto through AWS_ENDPOINT_URL_SECRETS_MANAGER = the proxy.
    assert count(name) == 1


def test_keys_keep_the_document_order_like_json_loads() -> None:
    name = unique("order")
    text = '{"Z": 1, "A": {"y": 1, "x": 2, "w": 3}, "M": 2}'
    create(name, text=text)
    d = manager(name).secrets
    assert list(d) == ["Z", "A", "M"] and list(d["A"]) == ["y", "x", "w"]
    assert json.dumps(d) == json.dumps(json.loads(text))


def test_same_dict_object_while_the_version_is_unchanged(secret: Callable[..., str]) -> None:
    name = secret(starfleet_doc("xoxb-same"))
    m = manager(name, ttl=0)  # every access fetches, and still no re-conversion
    first = m.secrets
    for _ in range(3):
        assert m.secrets is first
    assert count(name) == 4
    m.refresh()
    assert m.secrets is first
    put(name, starfleet_doc("xoxb-new"))
    second = m.secrets
    assert second is not first and second["STARFLEET"]["SlackToken"] == "xoxb-new"
    assert m.secrets is second


def test_singleton_located_from_the_environment(
    singleton: SecretsManager, secret: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    name = secret(starfleet_doc("xoxb-env"))
    monkeypatch.setenv("STARFLEET_SECRET_ID", name)
    monkeypatch.setenv("STARFLEET_SECRET_REGION", REGION)
    assert singleton is SECRETS_MANAGER
    assert isinstance(SECRETS_MANAGER, SecretsManager)
    assert SECRETS_MANAGER.secrets["STARFLEET"]["SlackToken"] == "xoxb-env"
    assert SECRETS_MANAGER.settings()["secret_id"] == name


def test_singleton_located_from_a_starfleet_configuration_directory(
    singleton: SecretsManager, secret: Callable[..., str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    name = secret(starfleet_doc("xoxb-cfg"))
    (tmp_path / "00-base.yaml").write_text("STARFLEET:\n  SecretsManager:\n    SecretId: Wrong\n    SecretRegion: eu-west-1\n")
    (tmp_path / "10-override.yml").write_text(
        f"STARFLEET:\n  SecretsManager:\n    SecretId: {name}\n    SecretRegion: {REGION}\n  SlackEnabled: true\n"
    )
    monkeypatch.setenv("STARFLEET_CONFIG", str(tmp_path))
    SECRETS_MANAGER.configure()
    assert SECRETS_MANAGER.secrets["STARFLEET"]["SlackToken"] == "xoxb-cfg"
    # config= as an argument (str or PathLike) does the same.
    monkeypatch.delenv("STARFLEET_CONFIG")
    SECRETS_MANAGER.configure(config=tmp_path)
    assert SECRETS_MANAGER.get("STARFLEET.SlackToken") == "xoxb-cfg"
    SECRETS_MANAGER.configure(config=str(tmp_path / "10-override.yml"))
    assert SECRETS_MANAGER.get("STARFLEET.SlackToken") == "xoxb-cfg"


def test_configure_replaces_every_option_and_empties_the_cache(
    singleton: SecretsManager, secret: Callable[..., str]
) -> None:
    a = secret({"v": "a"})
    b = secret({"v": "b"})
    SECRETS_MANAGER.configure(a, REGION, ttl="never")
    assert SECRETS_MANAGER.secrets == {"v": "a"}
    SECRETS_MANAGER.configure(secret_id=b, region=REGION)
    assert SECRETS_MANAGER.secrets == {"v": "b"}
    s = SECRETS_MANAGER.settings()
    assert (s["secret_id"], s["region"], s["ttl"], s["version_stage"]) == (b, REGION, 300.0, "AWSCURRENT")
    assert SECRETS_MANAGER.stats()["fetches"] == 1
    SECRETS_MANAGER.configure(a, REGION, ttl=1.5, max_stale=0, timeout=4, version_stage="AWSCURRENT")
    s = SECRETS_MANAGER.settings()
    assert (s["secret_id"], s["ttl"], s["max_stale"], s["timeout"]) == (a, 1.5, 0.0, 4.0)


def test_get_with_dotted_and_literal_paths_and_defaults(secret: Callable[..., str]) -> None:
    name = secret(starfleet_doc("xoxb-get"))
    m = manager(name)
    assert m.get("STARFLEET.SlackToken") == "xoxb-get"
    assert m.get("STARFLEET", "SlackToken") == "xoxb-get"
    assert m.get("GitHubSyncWorker", "my.org") == "-----BEGIN KEY-----"
    assert m.get(r"GitHubSyncWorker.my\.org") == "-----BEGIN KEY-----"
    assert m.get("Numbers.int") == 7
    # Values are the very objects inside the cached dict.
    assert m.get("STARFLEET") is m.secrets["STARFLEET"]
    assert m.get("Numbers.list") is m.secrets["Numbers"]["list"]
    # default= only covers a missing key, and None is a valid default.
    assert m.get("STARFLEET.Nope", default=None) is None
    assert m.get("Nope", "deeper", default="d") == "d"
    assert m.get("STARFLEET.SlackToken.deeper", default=0) == 0
    with pytest.raises(KeyError):
        m.get("STARFLEET.Nope")
    with pytest.raises(TypeError):
        m.get("STARFLEET", dflt=1)  # type: ignore[call-arg]
    assert count(name) == 1


def test_get_entry_keeps_the_method_python_sees(secret: Callable[..., str]) -> None:
    # get() has its own entry (manager/get_entry.rs) over PyO3's: name, docstring, signature,
    # the receiver check, and each call form's answer and counting are the method's.
    import inspect

    get = starfleet_secrets.SecretsManager.get
    assert get.__name__ == "get"
    assert str(inspect.signature(get)) == "(self, /, *path, default=Ellipsis)"
    assert (get.__doc__ or "").startswith("The value at a key path")
    with pytest.raises(TypeError, match="doesn't apply to a 'object' object"):
        get(object(), "STARFLEET.SlackToken")
    name = secret(starfleet_doc("xoxb-entry"))
    m = manager(name)
    token = m.get("STARFLEET.SlackToken")  # loads: one miss
    hits = m.stats()["hits"]
    assert m.get("STARFLEET.SlackToken") is token  # one argument: the entry's own hit
    assert m.get("STARFLEET", "SlackToken") is token  # several: the method's path
    assert m.get("STARFLEET.SlackToken", default=None) is token  # keywords: the method's path
    assert m.stats()["hits"] == hits + 3
    with pytest.raises(KeyError):
        m.get("STARFLEET.Nope")
    with pytest.raises(starfleet_secrets.SecretsInvalidArgumentError):
        m.get(5)  # type: ignore[arg-type]
    assert count(name) == 1


def test_load_secrets_refresh_and_invalidate(secret: Callable[..., str]) -> None:
    name = secret({"v": "one"})
    m = manager(name, ttl="never")
    assert m.load_secrets() is None  # Starfleet's API: fetch now
    assert count(name) == 1
    assert m.secrets == {"v": "one"}
    put(name, {"v": "two"})
    assert m.secrets == {"v": "one"}  # never: cached
    assert m.refresh() is None
    assert m.secrets == {"v": "two"}
    assert count(name) == 2
    m.load_secrets()
    assert count(name) == 3
    m.invalidate()
    assert count(name) == 3
    assert m.secrets == {"v": "two"}
    assert count(name) == 4


def test_stats(secret: Callable[..., str]) -> None:
    name = secret({"v": 1})
    m = manager(name)
    assert m.stats() == {
        "hits": 0,
        "misses": 0,
        "fetches": 0,
        "failures": 0,
        "stale_served": 0,
        "refreshes_ahead": 0,
        "last_refresh": None,
        "version_id": None,
        "last_error": None,
        "testing_overrides": 0,
        "region": None,
        "failovers": 0,
        "hedges": 0,
        "older_replica_answers": 0,
        "restores": 0,
    }
    m.secrets
    m.secrets
    m.get("v")
    s = m.stats()
    version = moto().describe_secret(SecretId=name)["VersionIdsToStages"]
    assert (s["hits"], s["misses"], s["fetches"], s["failures"]) == (2, 1, 1, 0)
    assert s["version_id"] in version
    assert isinstance(s["last_refresh"], float) and s["last_refresh"] > 1.6e9


def test_empty_document_is_a_cached_value(secret: Callable[..., str]) -> None:
    name = secret({})
    m = manager(name)
    for _ in range(3):
        assert m.secrets == {}
    assert count(name) == 1


def test_binary_secrets(secret: Callable[..., str]) -> None:
    data = bytes([0, 159, 146, 150, 255, 1])
    name = secret(binary=data)
    m = manager(name)
    assert m.secret_binary == data
    assert type(m.secret_binary) is bytes
    with pytest.raises(starfleet_secrets.SecretFormatError, match="SecretBinary"):
        m.secrets
    json_secret = manager(secret({"v": 1}))
    with pytest.raises(starfleet_secrets.SecretFormatError, match="not SecretBinary"):
        json_secret.secret_binary


def test_version_stage_and_version_id(secret: Callable[..., str]) -> None:
    name = unique("stages")
    v1 = create(name, {"v": "one"})
    v2 = put(name, {"v": "two"})
    moto().update_secret_version_stage(SecretId=name, VersionStage="CANARY", MoveToVersionId=v1)
    assert manager(name).secrets == {"v": "two"}
    assert manager(name, version_stage="AWSPREVIOUS").secrets == {"v": "one"}
    assert manager(name, version_stage="CANARY").secrets == {"v": "one"}
    assert manager(name, version_id=v2).secrets == {"v": "two"}
    assert manager(name, version_id=v1).stats()["version_id"] is None
    m = manager(name, version_id=v1)
    m.secrets
    assert m.stats()["version_id"] == v1
    with pytest.raises(starfleet_secrets.SecretNotFoundError):
        manager(name, version_stage="NOPE").secrets


def test_arn_as_secret_id_takes_the_region_from_the_arn(secret: Callable[..., str]) -> None:
    name = secret({"v": "arn"})
    arn = moto().describe_secret(SecretId=name)["ARN"]
    m = SecretsManager(arn)
    assert m.secrets == {"v": "arn"}
    assert m.settings()["region"] == REGION


def test_fallback_regions_are_a_list_checked_like_the_region() -> None:
    m = SecretsManager("S", "us-east-1", fallback_regions=["us-west-2", "us-east-1", "us-west-2", "eu-west-1"])
    assert m.settings()["fallback_regions"] == ["us-west-2", "eu-west-1"], "without repeats or the primary"
    assert SecretsManager("S", "us-east-1").settings()["fallback_regions"] == []
    with pytest.raises(starfleet_secrets.SecretsConfigurationInvalidError, match="fallback_regions.*Oregon"):
        SecretsManager("S", "us-east-1", fallback_regions=["Oregon"]).settings()
    with pytest.raises(TypeError):
        SecretsManager("S", "us-east-1", fallback_regions="us-west-2")  # type: ignore[arg-type]


def test_repr_names_the_secret_and_state_only(secret: Callable[..., str]) -> None:
    name = secret({"v": "hidden-value"})
    m = manager(name, ttl="never")
    assert name in repr(m) and "ttl=" in repr(m)
    m.secrets
    text = repr(m)
    assert "hidden-value" not in text and "fetches=1" in text
    assert repr(SECRETS_MANAGER).startswith("<SecretsManager")


def test_example_worker_prints_a_redacted_confirmation(secret: Callable[..., str], tmp_path: Path) -> None:
    token = "xoxb-example-" + base64.b32encode(os.urandom(10)).decode()
    name = secret(starfleet_doc(token))
    (tmp_path / "starfleet.yaml").write_text(
        f"STARFLEET:\n  SecretsManager:\n    SecretId: {name}\n    SecretRegion: {REGION}\n"
    )
    worker = [sys.executable, str(REPO / "examples" / "python" / "worker.py")]
    env = {"STARFLEET_CONFIG": str(tmp_path), "STARFLEET_LOG": "debug"}
    out = run(worker, env=env)
    assert out.returncode == 0, out.stderr
    assert f"read STARFLEET.SlackToken ({len(token)} characters, value redacted" in out.stdout
    assert "1 fetch)" in out.stdout
    assert "[DEBUG] starfleet_secrets" in out.stderr  # the library's records reached logging
    assert token not in out.stdout + out.stderr
    # A missing location is a typed error on stderr.
    out = run(worker, remove=["STARFLEET_CONFIG", "STARFLEET_SECRET_ID", "STARFLEET_SECRET_REGION"])
    assert out.returncode == 1
    assert "CONFIG_MISSING" in out.stderr


def test_packaging_metadata_types_and_abi3() -> None:
    dist = importlib.metadata.distribution("starfleet-secrets")
    assert dist.version == starfleet_secrets.__version__
    assert dist.metadata["Requires-Python"] == ">=3.9"
    eps = [ep for ep in dist.entry_points if ep.group == "pytest11"]
    assert [ep.value for ep in eps] == ["starfleet_secrets.testing"]
    pkg = Path(starfleet_secrets.__file__).parent
    assert (pkg / "py.typed").exists() and (pkg / "_native.pyi").exists()
    native = Path(starfleet_secrets._native.__file__)
    assert native.name.endswith(".abi3.so"), native.name


def test_arguments_follow_pythons_calling_convention() -> None:
    # configure() (so SecretsManager(), whose __init__ it is) hands its arguments to core
    # whole: the convention errors stay Python's TypeErrors, naming the argument.
    with pytest.raises(TypeError, match="unexpected keyword argument 'secretid'.*secret_id"):
        SecretsManager(secretid="x")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="multiple values for argument 'secret_id'"):
        SecretsManager("x", secret_id="y")  # type: ignore[misc]
    with pytest.raises(TypeError, match="at most 6 positional"):
        SecretsManager("x", REGION, None, 60, "AWSCURRENT", None, 5)  # type: ignore[misc]
    with pytest.raises(TypeError, match="argument 'region'"):
        SecretsManager("x", 5)  # type: ignore[arg-type]
    m = SecretsManager("x", REGION, None, 60, "AWSPREVIOUS")
    assert (m.settings()["ttl"], m.settings()["version_stage"]) == (60, "AWSPREVIOUS")
    m.configure(secret_id="y", region=REGION, max_stale=None)
    assert m.settings()["secret_id"] == "y" and m.settings()["ttl"] == 300, "configure() replaces every option"


def test_invalid_arguments_are_value_errors() -> None:
    for kwargs in (
        {"ttl": -1},
        {"ttl": "soon"},
        {"ttl": True},
        {"ttl": [1]},
        {"timeout": "5"},
        {"max_stale": float("nan")},
    ):
        with pytest.raises(starfleet_secrets.SecretsInvalidArgumentError) as e:
            SecretsManager("x", REGION, **kwargs)
        assert isinstance(e.value, ValueError)
        assert next(iter(kwargs)) in str(e.value)
    m = SecretsManager("x", REGION, version_stage="AWSPREVIOUS", version_id="v1")
    with pytest.raises(starfleet_secrets.SecretsInvalidArgumentError, match="not both"):
        m.secrets
    for bad in ("", "a..b", ".a", "a.", "a\\x"):
        with pytest.raises(starfleet_secrets.SecretsInvalidArgumentError):
            m.get(bad)
    with pytest.raises(starfleet_secrets.SecretsInvalidArgumentError, match="empty key path"):
        m.get()
    with pytest.raises(starfleet_secrets.SecretsInvalidArgumentError, match="strings"):
        m.get("a", 1)  # type: ignore[arg-type]


def test_gil_is_released_around_every_blocking_call(secret: Callable[..., str]) -> None:
    from conftest import Ticker, fault

    data = b"\x01\x02"
    json_name = secret({"v": "gil"})
    binary_name = secret(binary=data)
    calls: list[tuple[str, str, Callable[[SecretsManager], Any]]] = [
        ("secrets", json_name, lambda m: m.secrets),
        ("get", json_name, lambda m: m.get("v")),
        ("refresh", json_name, lambda m: m.refresh()),
        ("load_secrets", json_name, lambda m: m.load_secrets()),
        ("secret_binary", binary_name, lambda m: m.secret_binary),
    ]
    for what, name, call in calls:
        m = manager(name)
        fault(name, "delay", delay_ms=400)
        with Ticker() as t:
            call(m)
            ticks = t.ticks
        # 400 ms at ~2 ms a tick: a held GIL would allow a handful at most.
        assert ticks >= 40, f"{what}: another Python thread ran only {ticks} times during the fetch"


def test_typed_usage_passes_mypy_strict(tmp_path: Path) -> None:
    """The stubs serve a worker's type checking: typical code checks clean under --strict."""
    code = tmp_path / "worker_typing.py"
    code.write_text(
        "from typing import Any, Dict\n"
        "from starfleet_secrets import SECRETS_MANAGER, SecretsManager, SecretKeyNotFoundError\n"
        "from starfleet_secrets.testing import override_secrets\n"
        "\n"
        "m = SecretsManager('x', 'us-east-1', ttl='never', timeout=2.5)\n"
        "d: Dict[str, Any] = SECRETS_MANAGER.secrets\n"
        "token: str = m.get_str('STARFLEET.SlackToken')\n"
        "raw: bytes = m.secret_binary\n"
        "stats: Dict[str, Any] = m.stats()\n"
        "code: str = SecretKeyNotFoundError.code\n"
        "\n"
        "async def f() -> Any:\n"
        "    await m.arefresh()\n"
        "    return (await m.asecrets())['a'], await m.aget('a', 'b', default=None)\n"
        "\n"
        "with override_secrets({'a': 1}) as served:\n"
        "    served.invalidate()\n"
    )
    out = run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(REPO / ".venv" / ".mypy_cache"), str(code)],
        timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_import_loads_no_module_the_bare_interpreter_does_not() -> None:
    """Cold start: importing the package adds only its own modules (and `atexit`, built in) to
    what `python -c pass` has loaded; `typing`, `weakref`, `__future__`, `asyncio` and
    `logging` each cost a cold start milliseconds, and are imported only where used."""
    code = "import sys; {}; print(' '.join(sorted(sys.modules)))"
    bare = run([sys.executable, "-c", code.format("pass")])
    package = run([sys.executable, "-c", code.format("import starfleet_secrets")])
    assert bare.returncode == 0 and package.returncode == 0, package.stderr
    added = set(package.stdout.split()) - set(bare.stdout.split())
    assert added == {
        "atexit",
        "starfleet_secrets",
        "starfleet_secrets._errors",
        "starfleet_secrets._native",
    }, sorted(added)
