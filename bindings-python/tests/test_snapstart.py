"""Lambda SnapStart: the hooks registered with ``snapshot_restore_py``, and the explicit
``before_snapshot()`` / ``after_restore()``.

A fake ``snapshot_restore_py`` (written to a temporary directory put on ``sys.path``) records
what is registered, and the test calls the recorded hooks as the Lambda runtime would around a
snapshot. Registration happens at import, so each case runs in a fresh interpreter.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REGION, count, create, manager, put, run_python, unique
from starfleet_secrets import SecretsInvalidArgumentError

FAKE = '''
BEFORE = []
AFTER = []

def register_before_snapshot(func, *args, **kwargs):
    BEFORE.append(func)
    return func

def register_after_restore(func, *args, **kwargs):
    AFTER.append(func)
    return func
'''


def _fake_module(tmp_path: Path) -> str:
    (tmp_path / "snapshot_restore_py.py").write_text(FAKE)
    return str(tmp_path)


def test_registered_on_snap_start_and_every_live_manager_is_restored(tmp_path: Path) -> None:
    name = unique("snapstart")
    create(name, {"v": "one"})
    other = unique("snapstart-other")
    create(other, {"v": "a"})
    code = f"""
import gc, sys
import snapshot_restore_py as hooks
import starfleet_secrets
assert len(hooks.BEFORE) == 1 and len(hooks.AFTER) == 1, (hooks.BEFORE, hooks.AFTER)
m = starfleet_secrets.SecretsManager({name!r}, {REGION!r}, ttl="never")
o = starfleet_secrets.SecretsManager({other!r}, {REGION!r})
gone = starfleet_secrets.SecretsManager({other!r}, {REGION!r})
del gone
gc.collect()
print(m.secrets["v"], o.secrets["v"])
sys.stdout.flush()
input()  # the test changes the secrets now
hooks.BEFORE[0]()
print(m.secrets["v"], o.secrets["v"])  # before the restore: the cached values
hooks.AFTER[0]()
print(m.secrets["v"], o.secrets["v"], m.stats()["restores"], o.stats()["restores"], m.stats()["fetches"])
"""
    path = os.pathsep.join([_fake_module(tmp_path), os.environ.get("PYTHONPATH", "")])
    env = dict(os.environ, AWS_LAMBDA_INITIALIZATION_TYPE="snap-start", PYTHONPATH=path)
    child = subprocess.Popen(
        [sys.executable, "-c", code],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None and child.stdin is not None
    assert child.stdout.readline().split() == ["one", "a"]
    put(name, {"v": "two"})
    put(other, {"v": "b"})
    out, err = child.communicate("\n", timeout=30)
    assert child.returncode == 0, err
    lines = out.split("\n")
    assert lines[0].split() == ["one", "a"]
    assert lines[1].split() == ["two", "b", "1", "1", "2"], out
    assert count(name) == 2 and count(other) == 2


def test_nothing_is_imported_off_snap_start(tmp_path: Path) -> None:
    code = """
import sys
import starfleet_secrets
print("snapshot_restore_py" in sys.modules)
"""
    for env in ({}, {"AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand"}):
        env = dict(env, PYTHONPATH=_fake_module(tmp_path))
        done = run_python(code, env=env, remove=["AWS_LAMBDA_INITIALIZATION_TYPE"])
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "False", env
    # snap-start without the module: nothing fails.
    done = run_python(code, env={"AWS_LAMBDA_INITIALIZATION_TYPE": "snap-start"})
    assert done.returncode == 0 and done.stdout.strip() == "False", done.stderr


def test_explicit_hooks_refetch_once_and_zeroize_drops_the_dict() -> None:
    name = unique("snapstart-explicit")
    create(name, {"v": "one"})
    m = manager(name)
    first = m.secrets
    assert first["v"] == "one"
    put(name, {"v": "two"})
    m.before_snapshot()
    assert m.secrets is first, "without zeroize the value and its dict stay"
    assert m.get("v") == "one"
    m.after_restore()
    assert m.get("v") == "two", "get(path)'s fast entry does not serve the value from before the restore"
    assert m.secrets["v"] == "two" and m.secrets["v"] == "two"
    assert count(name) == 2
    assert m.stats()["restores"] == 1

    z = manager(name, zeroize_before_snapshot=True)
    kept = z.secrets
    assert kept["v"] == "two"
    z.before_snapshot()
    assert z.secrets is not kept, "the wiped value's dict is not served again"
    assert count(name) == 4, "the next read fetched"
    with pytest.raises(SecretsInvalidArgumentError, match="zeroize_before_snapshot"):
        manager(name, zeroize_before_snapshot="yes")
