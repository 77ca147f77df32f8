"""A slow or faulty way to Secrets Manager, the release wheel against boto3 (run: ./run).

Runs in a mount namespace of its own (``unshare -m``, set up by the run script), where it
bind-mounts a resolv.conf naming a DNS server of its own on 127.53.53.53:53, and reads the
Starfleet secret with bench/python's cold-start workers (a whole process each: this package,
and boto3 as Starfleet uses it) from the harness's HTTPS listener under a name only that server
knows (``sm.harness.test``, which the harness certificate covers). Five cases:

- **slow DNS**: every answer after ``--delay`` seconds (a slow forwarder, a resolver under
  load), longer than the 3 s connect timeout of the AWS SDKs, which covers the lookup;
- **lossy DNS**: the first lookup's queries (A and AAAA) are lost, every later one is answered
  at once; the resolver's options are glibc's defaults (``timeout:5 attempts:2``), so a client
  that waits for that lookup waits for glibc's retransmission;
- **slow proxy**: ``HTTPS_PROXY`` is a harness CONNECT proxy that answers each ``CONNECT``
  after ``--delay`` seconds (a proxy whose own way upstream is slow), and the endpoint is a
  name only that proxy resolves (``STARFLEET_TEST_PRIVATE_ENDPOINT``);
- **web identity through the slow proxy**: the same proxy, and no access keys: the
  credentials come from STS (``AssumeRoleWithWebIdentity``, moto's, at the same private
  endpoint through the proxy), as on EKS with IAM roles for service accounts, so a
  credential provider's call meets the slow proxy before GetSecretValue does;
- **black hole**: the first lookup names 127.0.0.2, where a listener with a full accept queue
  makes the kernel drop every SYN (a black-holed address), every later one 127.0.0.1: the fault
  a connect timeout is for.
"""

import argparse
import json
import os
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
COLD = REPO / "bench" / "python" / "cold"
WORKERS = {
    "starfleet-secrets (release wheel)": "run_starfleet_secrets_package.py",
    "boto3": "run_boto3_starfleet.py",
}
SERVER = "127.53.53.53"
BLACK_HOLE = "127.0.0.2"


class Server:
    """The DNS server: A queries get 127.0.0.1 (the first one, in ``hole`` mode,
    ``BLACK_HOLE``), others no record, as ``mode`` says when."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((SERVER, 53))
        self.mode, self.delay, self.to_drop, self.queries, self.a_queries = "slow", 0.0, 0, 0, 0
        threading.Thread(target=self.serve, daemon=True).start()

    def reset(self, mode: str, delay: float) -> None:
        self.mode, self.delay, self.queries, self.a_queries = mode, delay, 0, 0
        self.to_drop = 2 if mode == "lossy" else 0

    def serve(self) -> None:
        while True:
            data, peer = self.sock.recvfrom(512)
            self.queries += 1
            if self.to_drop > 0:
                self.to_drop -= 1
                continue
            delay = self.delay if self.mode == "slow" else 0.0
            threading.Thread(target=self.answer, args=(data, peer, delay), daemon=True).start()

    def answer(self, query: bytes, peer, delay: float) -> None:
        time.sleep(delay)
        end = 12
        while query[end]:
            end += query[end] + 1
        qtype = struct.unpack(">H", query[end + 1 : end + 3])[0]
        question = query[12 : end + 5]
        record = b""
        if qtype == 1:
            address = BLACK_HOLE if self.mode == "hole" and self.a_queries == 0 else "127.0.0.1"
            self.a_queries += 1
            record = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + socket.inet_aton(address)
        header = query[:2] + struct.pack(">HHHHH", 0x8180, 1, 1 if record else 0, 0, 0)
        self.sock.sendto(header + question + record, peer)


def black_hole(port: int) -> list[socket.socket]:
    """A listener on BLACK_HOLE:port whose accept queue is full (backlog 0, one connection
    waiting): the kernel drops every further SYN, as a black-holed address does."""
    listener = socket.socket()
    listener.bind((BLACK_HOLE, port))
    listener.listen(0)
    filler = socket.create_connection((BLACK_HOLE, port), timeout=2)
    probe = socket.socket()
    probe.settimeout(0.3)
    try:
        probe.connect((BLACK_HOLE, port))
        raise SystemExit("the black hole answered a SYN")
    except TimeoutError:
        pass
    finally:
        probe.close()
    return [listener, filler]


def slow_proxy(delay: float) -> tuple[str, int]:
    """A harness CONNECT proxy answering each CONNECT after ``delay`` s: its URL and id."""
    request = urllib.request.Request(
        os.environ["STARFLEET_TEST_PROXY"] + "/__harness/connect-proxies",
        data=json.dumps({"delay_ms": delay * 1000}).encode(),
        method="POST",
    )
    with urllib.request.urlopen(request) as answer:
        proxy = json.load(answer)
    return proxy["url"], proxy["id"]


def connects(proxy_id: int) -> int:
    """CONNECTs the proxy has been asked for so far."""
    with urllib.request.urlopen(f"{os.environ['STARFLEET_TEST_PROXY']}/__harness/connect-proxies/{proxy_id}") as answer:
        return sum(json.load(answer)["requested"].values())


def failure(stderr: str) -> str:
    """The exception's class, from a worker's traceback (its last line)."""
    last = (stderr.strip().splitlines() or ["failed"])[-1]
    return "failed: " + last.split(":", 1)[0].rsplit(".", 1)[-1]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--delay", type=float, default=4.0)
    parser.add_argument("--python", required=True)
    parser.add_argument("--out")
    parser.add_argument("--command", default="bench/slow-network/run")
    args = parser.parse_args()

    resolv = Path(tempfile.mkdtemp()) / "resolv.conf"
    resolv.write_text(f"nameserver {SERVER}\noptions timeout:5 attempts:2\n")
    subprocess.run(["mount", "--bind", str(resolv), "/etc/resolv.conf"], check=True)
    server = Server()
    port = int(os.environ["STARFLEET_TEST_PROXY_HTTPS"].rsplit(":", 1)[1])
    hole = black_hole(port)
    proxy_url, proxy_id = slow_proxy(args.delay)
    env = {**os.environ, "AWS_ENDPOINT_URL_SECRETS_MANAGER": f"https://sm.harness.test:{port}"}
    env.pop("STARFLEET_CONFIG", None)
    private = os.environ["STARFLEET_TEST_PRIVATE_ENDPOINT"]
    proxied = {**env, "AWS_ENDPOINT_URL_SECRETS_MANAGER": private, "HTTPS_PROXY": proxy_url}
    token = Path(tempfile.mkdtemp()) / "web-identity-token"
    token.write_text("eyJhbGciOiJub25lIn0.eyJzdWIiOiJiZW5jaCJ9.")
    web_identity = {
        key: value
        for key, value in proxied.items()
        if key not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
    }
    web_identity.update(
        AWS_ROLE_ARN="arn:aws:iam::123456789012:role/starfleet-worker",
        AWS_ROLE_SESSION_NAME="bench",
        AWS_WEB_IDENTITY_TOKEN_FILE=str(token),
        AWS_ENDPOINT_URL_STS=private,
    )

    # (mode, what, the worker's environment, what the last column counts)
    cases = [
        ("slow", f"slow DNS: every answer after {args.delay:g} s", env, "DNS queries"),
        ("lossy", "lossy DNS: the first lookup's queries lost", env, "DNS queries"),
        ("proxy", f"slow proxy: each CONNECT answered after {args.delay:g} s", proxied, "CONNECTs"),
        ("sts", "web identity (STS) through the same slow proxy", web_identity, "CONNECTs"),
        ("hole", "black hole: the first lookup names an address that drops SYNs", env, "DNS queries"),
    ]
    results = {}
    for _ in range(args.runs):
        for mode, _, case_env, counted in cases:
            for label, script in WORKERS.items():
                server.reset("fast" if counted == "CONNECTs" else mode, args.delay)
                before = connects(proxy_id)
                started = time.perf_counter()
                out = subprocess.run([args.python, str(COLD / script)], env=case_env, capture_output=True, text=True)
                took = time.perf_counter() - started
                outcome = "read" if out.returncode == 0 else failure(out.stderr)
                seen = connects(proxy_id) - before if counted == "CONNECTs" else server.queries
                results.setdefault((mode, label), []).append((took, outcome, seen))
    del hole

    lines = [
        f"{args.runs} runs per row, interleaved; the harness's HTTPS listener by a name only the test DNS "
        "server (or, for the proxy, only the proxy) resolves; seconds from start to exit of a whole process.",
        "",
        "| case | worker | seconds (median; each run) | outcome | DNS queries or CONNECTs (median) |",
        "| --- | --- | ---: | --- | ---: |",
    ]
    for mode, what, _, _ in cases:
        for label in WORKERS:
            runs = results[(mode, label)]
            outcomes = sorted({o for _, o, _ in runs})
            lines.append(
                f"| {what} | {label} | {statistics.median(t for t, _, _ in runs):.2f} "
                f"({', '.join(f'{t:.2f}' for t, _, _ in runs)}) | {'; '.join(outcomes)} "
                f"| {statistics.median(q for _, _, q in runs):g} |"
            )
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    if args.out:
        write_report(Path(args.out), args.command, text)
    return 0


def write_report(path: Path, command: str, text: str) -> None:
    """The report at ``path``: the title, the command and the cases, then this run, then every
    earlier run's section (from the old file's first ``## ``), which a run must not erase."""
    earlier = path.read_text() if path.exists() else ""
    earlier = earlier[earlier.index("\n## ") + 1 :] if "\n## " in earlier else ""
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    cases = __doc__.split(chr(10), 1)[1].strip()
    path.write_text(
        f"# A slow or faulty way to Secrets Manager\n\nCommand: `{command}`\n\n{cases}\n\n"
        f"## Run of {stamp}\n\n{text}\n{earlier}"
    )


if __name__ == "__main__":
    sys.exit(main())
