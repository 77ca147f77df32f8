"""Time to the first successful read after a silently dropped pooled connection.

Each variant is a worker process that reads the secret once (opening a connection), then
waits; the harness starts black-holing every request on a reused connection (new ones are
served: a NAT gateway that forgot the flow), a new version is put, and after 1.2 s the worker
reads again. Reported: how long that second read took to return the new value, or "more than
CAP s" if it had not when the cap ran out. Each library uses its defaults (this package: a
request on a reused connection unanswered for 1 s is hedged on a new connection, no tuning
variable set; boto3: 60 s read timeout; the JS SDK: no request timeout). Run through
bench/dead-connection/run.
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
s = m.stats()
print(json.dumps({"seconds": time.monotonic() - t, "value": v, "failures": s["failures"], "hedges": s["hedges"]}), flush=True)
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


#: A slow answer (bench's second table): two reads, the first on a new connection, the second
#: on the reused one, while the proxy holds every GetSecretValue SLOW_MS.
SLOW_MS = 1500

SLOW_PACKAGE = """
import json, sys, time
import starfleet_secrets
m = starfleet_secrets.SecretsManager(sys.argv[1], sys.argv[2], ttl=0)
times = []
for _ in range(2):
    t = time.monotonic()
    m.secrets
    times.append(time.monotonic() - t)
s = m.stats()
print(json.dumps({"times": times, "failures": s["failures"], "hedges": s["hedges"]}), flush=True)
"""

SLOW_BOTO3 = """
import json, sys, time
import boto3
client = boto3.client("secretsmanager", region_name=sys.argv[2])
times = []
for _ in range(2):
    t = time.monotonic()
    client.get_secret_value(SecretId=sys.argv[1])
    times.append(time.monotonic() - t)
print(json.dumps({"times": times}), flush=True)
"""


def moto() -> Any:
    return boto3.client("secretsmanager", endpoint_url=os.environ["STARFLEET_TEST_MOTO"], region_name=REGION)


def measure(label: str, argv: List[str], cap: float) -> Dict[str, Any]:
    name = f"dead-{label.split()[0]}-{time.time_ns()}"
    moto().create_secret(Name=name, SecretString=json.dumps({"v": "old"}))
    # Defaults: no tuning variable of this package reaches a worker.
    env = {k: v for k, v in os.environ.items() if not k.startswith("STARFLEET_SECRETS_")}
    env.update(AWS_REGION=REGION, NODE_PATH=str(REPO / "bench" / "node" / "node_modules"))
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


def measure_slow(label: str, argv: List[str], env: Dict[str, str]) -> Dict[str, Any]:
    """Two reads while every GetSecretValue takes SLOW_MS; each read's time, or the error."""
    name = f"slow-{label.split()[0]}-{time.time_ns()}"
    moto().create_secret(Name=name, SecretString=json.dumps({"v": "x"}))
    control("POST", "faults", {"secret_id": name, "action": "delay", "delay_ms": SLOW_MS, "times": 0})
    try:
        out = subprocess.run([*argv, name, REGION], capture_output=True, text=True, env=env, cwd=REPO, timeout=120)
        if out.returncode != 0:
            return {"label": label, "error": (out.stderr.strip().splitlines() or ["?"])[-1]}
        result = json.loads(out.stdout.strip().splitlines()[-1])
        calls = control("GET", f"counts?secret_id={name}").get("GetSecretValue", 0)
        return {"label": label, "calls": calls, **result}
    finally:
        control("DELETE", f"faults?secret_id={name}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cap", type=float, default=90)
    ap.add_argument("--package-python", default=sys.executable, help="the Python with this package installed (the release wheel)")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--command", required=True)
    args = ap.parse_args()
    variants = [
        ("starfleet-secrets (Python package)", [args.package_python, "-c", PACKAGE]),
        ("boto3 (defaults)", [sys.executable, "-c", BOTO3]),
        ("@aws-sdk/client-secrets-manager (defaults)", ["node", "-e", JS_SDK]),
    ]
    rows = [measure(label, argv, args.cap) for label, argv in variants]
    env = {k: v for k, v in os.environ.items() if not k.startswith("STARFLEET_SECRETS_")}
    env["AWS_REGION"] = REGION
    slow = [
        measure_slow("starfleet-secrets (Python package)", [args.package_python, "-c", SLOW_PACKAGE], env),
        measure_slow("boto3 (defaults)", [sys.executable, "-c", SLOW_BOTO3], env),
    ]
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
        extra = f" (failures counted: {row['failures']}, hedges: {row['hedges']})" if "failures" in row else ""
        lines.append(f"| {row['label']} | {shown}{extra} |")
    lines += [
        "",
        "Why: this package sends a GetSecretValue left unanswered for 1 s on a reused pooled connection again "
        "on a new connection, the first answer winning (a hedge: core/src/hedge.rs), with no timer that could "
        "fail a slow answer; boto3 waits for its 60 s read timeout before retrying; the JS SDK sets no request "
        "timeout, so it waits for the kernel to give up on the connection.",
        "",
    ]
    lines += [
        f"## A slow answer ({SLOW_MS / 1000:g} s)",
        "",
        f"The proxy held every GetSecretValue {SLOW_MS} ms (a slow Secrets Manager or KMS behind it: slow, not "
        "broken); each worker, with its defaults (10 s deadline here), read twice: the first read on a new "
        "connection, the second on the reused one.",
        "",
        "| library (its defaults) | first read (new connection) | second read (reused connection) | GetSecretValue calls |",
        "| --- | ---: | ---: | ---: |",
    ]
    for row in slow:
        if "error" in row:
            lines.append(f"| {row['label']} | failed: {row['error'][:120]} | | |")
            continue
        first, second = row["times"]
        extra = f" (failures counted: {row['failures']}, hedges: {row['hedges']})" if "failures" in row else ""
        lines.append(f"| {row['label']}{extra} | {first:.2f} s | {second:.2f} s | {row['calls']} |")
    lines += [
        "",
        "The second read of this package goes out on a reused connection; after 1 s without an answer it is "
        "hedged on a new connection (one more call), and the first answer, the original one, ends the read.",
        "",
    ]
    args.out.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
