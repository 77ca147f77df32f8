"""The cross-language conformance vectors (tests/vectors, see its README) through the Python API.

The same data files are run by the Rust, Node and Go/C suites, so the front doors cannot drift
apart. Adding a vector needs no change here.
"""

from __future__ import annotations

import base64
import json
import re
import socket
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest

from starfleet_secrets import SecretsManager, StarfleetSecretsError

from conftest import REPO, _control, clear_faults, unique

VECTORS = REPO / "tests" / "vectors"
READ_GROUPS = ["config", "precedence", "documents", "paths", "stages", "mounted"]
REGION = "us-east-2"
MANAGED = json.loads((VECTORS / "managed-env.json").read_text())["variables"]


def vectors(groups: List[str]) -> List[Any]:
    files = sorted(p for g in groups for p in (VECTORS / g).glob("*.json"))
    return [pytest.param(p, id=f"{p.parent.name}/{p.stem}") for p in files]


def call(operation: str, params: Dict[str, Any], region: str = REGION) -> Dict[str, Any]:
    reply = _control("POST", "call", {"operation": operation, "region": region, "params": params})
    assert reply["status"] == 200, f"{operation}: {reply}"
    return dict(reply["body"])


def create_secret(spec: Dict[str, Any], name: str) -> Tuple[List[str], str]:
    """Create the vector's secret (replicated to its ``regions``); the VersionIds in order and the ARN."""

    first, *later = spec.get("versions", [spec])
    replicas = {"AddReplicaRegions": [{"Region": r} for r in spec["regions"]]} if "regions" in spec else {}
    created = call("CreateSecret", {"Name": name, **replicas, **payload(first)})
    # Lagging replicas: a copy of the first version (same name, same VersionId) that later
    # versions never reach.
    for region in spec.get("lagging_regions", []):
        call("CreateSecret", {"Name": name, "ClientRequestToken": created["VersionId"], **payload(first)}, region)
    return [created["VersionId"]] + [put_version(version, name) for version in later], created["ARN"]


def payload(v: Dict[str, Any]) -> Dict[str, Any]:
    if "json" in v:
        return {"SecretString": json.dumps(v["json"])}
    if "string" in v:
        return {"SecretString": v["string"]}
    if "binary_base64" in v:
        return {"SecretBinary": v["binary_base64"]}
    return {}


def put_version(version: Dict[str, Any], name: str) -> str:
    """``PutSecretValue`` of one version spec (stages default to AWSCURRENT); its VersionId."""
    stages = version.get("stages", ["AWSCURRENT"])
    return str(call("PutSecretValue", {"SecretId": name, "VersionStages": stages, **payload(version)})["VersionId"])


def version_ref(v: Optional[str], versions: List[str]) -> Optional[str]:
    """A ``changes`` step's ``$version:N`` as the VersionId it names (versions put by steps included)."""
    m = re.fullmatch(r"\$version:(\d+)", v or "")
    return versions[int(m.group(1))] if m and int(m.group(1)) < len(versions) else v


def check_changes(want: List[List[Optional[str]]], seen: List[Tuple[Optional[str], str]], versions: List[str]) -> None:
    """Wait (up to 3 s) until ``seen`` has as many changes as ``want``, then compare."""
    expected = [(version_ref(old, versions), version_ref(new, versions)) for old, new in want]
    deadline = time.monotonic() + 3
    while len(seen) < len(expected) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert seen == expected, f"changes: want {expected}, have {seen}"


def substitute(v: Any, variables: Dict[str, str]) -> Any:
    if isinstance(v, str):
        # A version a later put_secret_value step makes is resolved when its step runs.
        v = re.sub(r"\$version:(\d+)", lambda m: variables.get(f"$version:{m.group(1)}", m.group(0)), v)
        for k in ("$secret", "$arn", "$closed_endpoint", "$mounted"):
            v = v.replace(k, variables[k])
        return v
    if isinstance(v, list):
        return [substitute(x, variables) for x in v]
    if isinstance(v, dict):
        return {k: substitute(x, variables) for k, x in v.items()}
    return v


def write_config(config: Dict[str, Any], scratch: Path) -> Path:
    scratch.mkdir(parents=True, exist_ok=True)
    if "file" in config:
        path = scratch / "starfleet.yaml"
        path.write_text(config["file"])
        return path
    if "files" in config:
        sub = scratch / "config.d"
        sub.mkdir()
        for name, text in config["files"].items():
            (sub / name).write_text(text)
        return sub
    return scratch / "does-not-exist.yaml"


def write_mounted(files: Dict[str, str], directory: Path) -> None:
    """The vector's ``mounted`` files (names may hold ``/``) in ``directory`` (``$mounted``)."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_text(text)


def prepare(
    path: Path, scratch: Path, monkeypatch: pytest.MonkeyPatch
) -> Tuple[str, Dict[str, Any], SecretsManager, List[str]]:
    """Secret, placeholders, config and environment; the secret name, the vector, a manager,
    the secret's VersionIds."""
    raw = json.loads(path.read_text())
    name = unique(f"vec-{path.parent.name}-{path.stem}")
    variables = {"$secret": name, "$arn": ""}
    versions: List[str] = []
    if "secret" in raw:
        versions, variables["$arn"] = create_secret(raw["secret"], name)
    for i, version_id in enumerate(versions):
        variables[f"$version:{i}"] = version_id
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        variables["$closed_endpoint"] = f"http://127.0.0.1:{s.getsockname()[1]}"
    variables["$mounted"] = str(scratch / "mounted")
    vector: Dict[str, Any] = substitute(raw, variables)
    if "mounted" in vector:
        write_mounted(vector["mounted"], scratch / "mounted")
    for var in MANAGED:
        monkeypatch.delenv(var, raising=False)
    env = dict(vector.get("env", {}))
    config: Optional[Path] = write_config(vector["config"], scratch) if "config" in vector else None
    if config is not None and vector.get("config_via") == "env":
        env["STARFLEET_CONFIG"] = str(config)
        config = None
    for k, v in env.items():
        if v is None:
            monkeypatch.delenv(k, raising=False)
        else:
            monkeypatch.setenv(k, v)
    args = dict(vector.get("args", {}))
    if config is not None:
        args["config"] = config
    return name, vector, SecretsManager(**args), versions


def read(m: SecretsManager, spec: Dict[str, Any]) -> Any:
    """One read through the public API, as JSON."""
    raw_path = spec.get("path")
    keys = (raw_path,) if isinstance(raw_path, str) else tuple(raw_path or ())
    kind = spec["as"]
    if kind == "string":
        return m.get_str(*keys)
    if kind == "json":
        return m.get(*keys)
    if kind == "document":
        return m.secrets
    if kind == "binary":
        return {"base64": base64.b64encode(m.secret_binary).decode()}
    raise AssertionError(f"unknown read kind {kind}")


def check(expect: Dict[str, Any], m: SecretsManager, spec: Dict[str, Any]) -> None:
    try:
        got = read(m, spec)
    except StarfleetSecretsError as e:
        assert "error" in expect, f"expected a value, got {e.code}: {e}"
        assert e.code == expect["error"], f"expected {expect['error']}, got {e.code}: {e}"
        for part in expect.get("message_contains", []):
            assert part in str(e), f"message lacks {part!r}: {e}"
        for part in expect.get("message_excludes", []):
            assert part not in str(e), f"message contains {part!r}: {e}"
        return
    assert "value" in expect, f"expected {expect.get('error')}, got a value"
    assert got == expect["value"], "wrong value"


@pytest.mark.parametrize("path", vectors(READ_GROUPS))
def test_read_vector(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, vector, m, _ = prepare(path, tmp_path, monkeypatch)
    check(vector["expect"], m, vector["read"])


@pytest.mark.parametrize("path", vectors(["faults"]))
def test_fault_vector(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name, vector, m, versions = prepare(path, tmp_path, monkeypatch)
    seen: List[Tuple[Optional[str], str]] = []
    m.on_change(lambda old, new: seen.append((old, new)))
    try:
        for i, step in enumerate(vector["steps"]):
            if "fault" in step:
                _control("POST", "faults", {"secret_id": name, **step["fault"]})
            elif "read" in step:
                started = time.monotonic()
                check(step["expect"], m, step["read"])
                elapsed_ms = (time.monotonic() - started) * 1000
                limit = step.get("within_ms")
                assert limit is None or elapsed_ms <= limit, f"step {i}: {elapsed_ms:.0f} ms > {limit} ms"
            elif "sleep_ms" in step:
                time.sleep(step["sleep_ms"] / 1000)
            elif "put_secret_value" in step:
                versions.append(put_version(step["put_secret_value"], name))
            elif "configure" in step:
                m.configure(**step["configure"])
            elif "changes" in step:
                check_changes(step["changes"], seen, versions)
            elif step.get("delete_secret"):
                call("DeleteSecret", {"SecretId": name, "ForceDeleteWithoutRecovery": True})
            elif "stats" in step:
                stats = m.stats()
                for key, want in step["stats"].items():
                    if key.endswith("_min"):
                        assert stats[key[:-4]] >= want, f"step {i}: {key[:-4]} = {stats[key[:-4]]} < {want}"
                    else:
                        assert stats[key] == want, f"step {i}: {key} = {stats[key]} != {want}"
            else:
                raise AssertionError(f"step {i}: unknown step {step}")
    finally:
        clear_faults(name)
