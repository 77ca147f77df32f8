"""The harness's control API (tests/harness/README.md) for benchmark drivers, stdlib only.

Imported by bench/refresh-ahead and bench/fleet-jitter, which run in a venv holding only the
release wheel: secrets are created through ``POST /__harness/call``, so no boto3 is needed.
"""

from __future__ import annotations

import json
import os
import time
import urllib.request
from typing import Any, Dict, List, Optional

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
