"""The `starfleet-secrets` console script: the Rust operator CLI shipped inside the wheel.

The CLI's own behaviour is tested in `cli/tests`; this proves the wheel's entry point reaches
it with the arguments, stdin, stdout/stderr and exit codes of the native binary.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import List, Optional

from starfleet_secrets._cli import main

from conftest import REGION, create, run, unique

SCRIPT = Path(sys.executable).with_name("starfleet-secrets")
LOCATION = ("STARFLEET_SECRET_ID", "STARFLEET_SECRET_REGION", "STARFLEET_CONFIG", "AWS_REGION", "AWS_DEFAULT_REGION")


def cli(args: List[str], stdin: Optional[str] = None) -> "subprocess.CompletedProcess[str]":
    full = {k: v for k, v in os.environ.items() if k not in LOCATION}
    full["NO_COLOR"] = "1"
    return subprocess.run([str(SCRIPT), *args], env=full, input=stdin, capture_output=True, text=True, timeout=60)


def test_the_console_script_is_installed_and_is_the_rust_cli() -> None:
    assert SCRIPT.exists() or shutil.which("starfleet-secrets"), "pip did not install the console script"
    out = cli(["--version"])
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("starfleet-secrets ")
    assert cli(["--help"]).stdout.count("set") >= 1
    usage = cli(["no-such-command"])
    # A usage error names the problem but never repeats what was typed (it may be a value).
    assert usage.returncode == 2 and "unrecognized subcommand" in usage.stderr, usage.stderr
    assert "no-such-command" not in usage.stderr


def test_set_from_stdin_then_keys_and_get_round_trip() -> None:
    name = unique("cli")
    create(name, {"STARFLEET": {}})
    where = ["--secret-id", name, "--region", REGION]
    canary = "CANARY-" + os.urandom(8).hex()
    wrote = cli(["set", "STARFLEET.SlackToken", "--stdin", *where], stdin=canary)
    assert wrote.returncode == 0, wrote.stderr
    keys = cli(["keys", "--json", *where])
    assert keys.returncode == 0, keys.stderr
    assert "STARFLEET.SlackToken" in keys.stdout
    got = cli(["get", "STARFLEET.SlackToken", *where])
    assert (got.returncode, got.stdout.strip()) == (0, canary)
    # Only `get` prints the value.
    for out in (wrote, keys):
        assert canary not in out.stdout + out.stderr
    missing = cli(["get", "STARFLEET.Nope", *where])
    assert missing.returncode != 0 and "KEY_NOT_FOUND" in missing.stderr


def test_main_is_callable_in_process_and_returns_the_exit_code() -> None:
    # In-process (no console script): the exit code comes back instead of exiting.
    assert main(["--version"]) == 0
    assert main(["--secret-id", "x", "frobnicate"]) == 2
    # `python -m starfleet_secrets._cli` is the same tool.
    out = run([sys.executable, "-m", "starfleet_secrets._cli", "--version"])
    assert out.returncode == 0 and out.stdout.startswith("starfleet-secrets "), out.stderr
