"""Time to the first successful read after a silently dropped pooled connection.

Each variant is a worker process that reads the secret once (opening a connection), then
waits; the harness starts black-holing every request on a reused connection (new ones are
served: a NAT gateway that forgot the flow), a new version is put, and after 1.2 s the worker
reads again. Reported: how long that second read took to return the new value, or "more than
CAP s" if it had not when the cap ran out. Each library uses its defaults (this package:
1 s per-attempt read timeout and a fresh connection for the retry; boto3: 60 s read timeout;
the JS SDK: no request timeout). Run through bench/dead-connection/run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List

import boto3

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE.parent))
from driver import REGION, control  # noqa: E402

#: Far beyond any cap, so the black hole never gives up first.
HANG_MS = 3_600_000

PACKAGE = """
import json, sys, time
import starfleet_secrets
m = starfleet_secrets.SecretsManager(sys.argv[1], sys.argv[2], ttl=1)
m.secrets
print("ready", flush=True)
sys.stdin.readline()
t = time.monotonic()
v = m.secrets["v"]
print(json.dumps({"seconds": time.monotonic() - t, "value": v, "failures": m.stats()["failures"]}), flush=True)
"""

BOTO3 = """
import json, sys, time
import boto3
client = boto3.client("secretsmanager", region_name=sys.argv[2])
client.get_secret_value(SecretId=sys.argv[1])
print("ready", flush=True)
sys.stdin.readline()
t = time.monotonic()
v = json.loads(client.get_secret_value(SecretId=sys.argv[1])["SecretString"])["v"]
print(json.dumps({"seconds": time.monotonic() - t, "value": v}), flush=True)
"""

JS_SDK = """
const { SecretsManagerClient, GetSecretValueCommand } = require('@aws-sdk/client-secrets-manager')
const readline = require('node:readline')
const [id, region] = process.argv.slice(1)
const client = new SecretsManagerClient({ region })
client.send(new GetSecretValueCommand({ SecretId: id })).then(() => {
  console.log('ready')
  readline.createInterface({ input: process.stdin }).once('line', async () => {
    const t = performance.now()
    const out = await client.send(new GetSecretValueCommand({ SecretId: id }))
    console.log(JSON.stringify({ seconds: (performance.now() - t) / 1000, value: JSON.parse(out.SecretString).v }))
    process.exit(0)
  })
})
"""


def moto() -> Any:
    return boto3.client("secretsmanager", endpoint_url=os.environ["STARFLEET_TEST_MOTO"], region_name=REGION)


def measure(label: str, argv: List[str], cap: float) -> Dict[str, Any]:
    name = f"dead-{label.split()[0]}-{time.time_ns()}"
    moto().create_secret(Name=name, SecretString=json.dumps({"v": "old"}))
    env = {**os.environ, "AWS_REGION": REGION, "NODE_PATH": str(REPO / "bench" / "node" / "node_modules")}
    child = subprocess.Popen(
        [*argv, name, REGION], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=REPO
    )
    try:
        assert child.stdout is not None and child.stdin is not None
        assert child.stdout.readline().strip() == "ready", f"{label} did not start"
        control("POST", "faults", {"secret_id": name, "action": "hang", "hang_ms": HANG_MS, "connection": "reused", "times": 0})
        moto().put_secret_value(SecretId=name, SecretString=json.dumps({"v": "new"}))
        time.sleep(1.2)
        child.stdin.write("\n")
        child.stdin.flush()
        started = time.monotonic()
        try:
            out, _ = child.communicate(timeout=cap)
        except subprocess.TimeoutExpired:
            return {"label": label, "seconds": None, "waited": time.monotonic() - started}
        result = json.loads(out.strip().splitlines()[-1])
        assert result["value"] == "new", result
        return {"label": label, **result}
    finally:
        child.kill()
        child.wait()
        control("DELETE", f"faults?secret_id={name}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cap", type=float, default=90)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--command", required=True)
    args = ap.parse_args()
    variants = [
        ("starfleet-secrets (Python package)", [sys.executable, "-c", PACKAGE]),
        ("boto3 (defaults)", [sys.executable, "-c", BOTO3]),
        ("@aws-sdk/client-secrets-manager (defaults)", ["node", "-e", JS_SDK]),
    ]
    rows = [measure(label, argv, args.cap) for label, argv in variants]
    lines = [
        "# Time to the first successful read after a dropped connection",
        "",
        f"Command: `{args.command}` (one run; {platform.machine()}, {os.cpu_count()} cores; "
        f"generated {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}).",
        "",
        "Each worker read the secret once over the harness's HTTPS listener, then every request on a reused "
        "connection was black-holed (new connections served), a new version was put, and 1.2 s later the "
        "worker read again. The time is that second read, until it returned the new value.",
        "",
        "| library (its defaults) | time to the first successful read |",
        "| --- | ---: |",
    ]
    for row in rows:
        shown = f"{row['seconds']:.2f} s" if row["seconds"] is not None else f"more than {args.cap:.0f} s (still waiting)"
        extra = f" (failures counted: {row['failures']})" if "failures" in row else ""
        lines.append(f"| {row['label']} | {shown}{extra} |")
    lines += [
        "",
        "Why: this package gives each GetSecretValue attempt a 1 s read timeout and retries on a fresh "
        "connection (core/src/source.rs); boto3 waits for its 60 s read timeout before retrying; the JS SDK "
        "sets no request timeout, so it waits for the kernel to give up on the connection.",
        "",
    ]
    args.out.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
