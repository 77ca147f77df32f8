"""What the Python benchmarks share: the harness's control API (tests/harness/README.md),
the manager a worker process builds from its command line, and writing the report.

Standard library only: bench/refresh-ahead and bench/fleet-jitter run in a venv holding only
the release wheel (secrets are created through ``POST /__harness/call``, so no boto3).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

REGION = "us-east-2"


def control(method: str, path: str, body: Optional[Dict[str, Any]] = None) -> Any:
    """One control request to the harness named by STARFLEET_TEST_PROXY; the JSON reply."""
    request = urllib.request.Request(
        os.environ["STARFLEET_TEST_PROXY"] + "/__harness/" + path,
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"{}")


def create_secret(prefix: str, document: Dict[str, Any]) -> str:
    """A fresh secret holding ``document`` (straight to moto: not counted); its name."""
    name = f"{prefix}-{time.time_ns()}"
    reply = control(
        "POST",
        "call",
        {"operation": "CreateSecret", "region": REGION, "params": {"Name": name, "SecretString": json.dumps(document)}},
    )
    if reply["status"] != 200:
        raise RuntimeError(f"CreateSecret {name}: {reply}")
    return name


def get_secret_value_times(name: str) -> List[float]:
    """Arrival times (Unix seconds) of every GetSecretValue the proxy saw for ``name``."""
    requests = control("GET", f"requests?secret_id={name}")["requests"]
    return [r["time"] for r in requests if r["operation"] == "GetSecretValue"]


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def report(out: Optional[Path], lines: Sequence[str]) -> None:
    """Print the Markdown report, and write it to ``out`` (a RESULTS.md) when given."""
    text = "\n".join([*lines, ""])
    if out:
        out.write_text(text)
    print(text)


def worker_argv(worker: Path, name: str, args: argparse.Namespace, options: Dict[str, Any]) -> List[str]:
    """The command line of ``worker`` (a script using worker_manager) reading secret ``name``."""
    return [
        sys.executable,
        str(worker),
        f"--name={name}",
        f"--region={REGION}",
        f"--ttl={args.ttl:g}",
        f"--seconds={args.seconds:g}",
        f"--interval-ms={args.interval_ms:g}",
        f"--options={json.dumps(options)}",
    ]


def worker_arguments(ap: argparse.ArgumentParser) -> argparse.Namespace:
    """A benchmark worker's command line (see worker_argv), plus its own arguments in ``ap``."""
    ap.add_argument("--name", required=True)
    ap.add_argument("--region", required=True)
    ap.add_argument("--ttl", type=float, required=True)
    ap.add_argument("--seconds", type=float, required=True)
    ap.add_argument("--interval-ms", type=float, required=True)
    ap.add_argument("--options", default="{}", help="extra SecretsManager keyword arguments, as JSON")
    return ap.parse_args()


def worker_manager(ap: argparse.ArgumentParser) -> Tuple[argparse.Namespace, Any]:
    """A benchmark worker's command line (plus its own arguments in ``ap``) and its manager.

    The manager is built as a user builds one: ``SecretsManager(secret_id=..., region=...,
    ttl=...)`` plus the variant's keyword arguments (``--options``, JSON), so a variant that
    names an option the installed wheel lacks fails with Python's own TypeError.
    """
    import starfleet_secrets

    args = worker_arguments(ap)
    manager = starfleet_secrets.SecretsManager(
        secret_id=args.name, region=args.region, ttl=args.ttl, **json.loads(args.options)
    )
    return args, manager
