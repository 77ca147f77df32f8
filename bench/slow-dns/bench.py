"""A slow or lossy DNS server, against the release wheel and boto3 (bench/slow-dns/run).

Runs in a mount namespace of its own (``unshare -m``, set up by the run script), where it
bind-mounts a resolv.conf naming a DNS server of its own on 127.53.53.53:53, and reads the
Starfleet secret with bench/python's cold-start workers (a whole process each: this package,
and boto3 as Starfleet uses it) from the harness's HTTPS listener under a name only that server
knows (``sm.harness.test``, which the harness certificate covers). Two servers:

- **slow**: every answer after ``--delay`` seconds (a slow forwarder, a resolver under load),
  longer than the 3 s connect timeout of this package, which covers the lookup;
- **lossy**: the first lookup's queries (A and AAAA) are lost, every later one is answered at
  once; the resolver's options are glibc's defaults (``timeout:5 attempts:2``), so a client that
  waits for that lookup waits for glibc's retransmission.
"""

import argparse
import os
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
COLD = REPO / "bench" / "python" / "cold"
WORKERS = {
    "starfleet-secrets (release wheel)": "run_starfleet_secrets_package.py",
    "boto3": "run_boto3_starfleet.py",
}
SERVER = "127.53.53.53"


class Server:
    """The DNS server: A queries get 127.0.0.1, others no record, as ``mode`` says when."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((SERVER, 53))
        self.mode, self.delay, self.to_drop, self.queries = "slow", 0.0, 0, 0
        threading.Thread(target=self.serve, daemon=True).start()

    def reset(self, mode: str, delay: float) -> None:
        self.mode, self.delay, self.queries = mode, delay, 0
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
            record = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + socket.inet_aton("127.0.0.1")
        header = query[:2] + struct.pack(">HHHHH", 0x8180, 1, 1 if record else 0, 0, 0)
        self.sock.sendto(header + question + record, peer)


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
    parser.add_argument("--command", default="bench/slow-dns/run")
    args = parser.parse_args()

    resolv = Path(tempfile.mkdtemp()) / "resolv.conf"
    resolv.write_text(f"nameserver {SERVER}\noptions timeout:5 attempts:2\n")
    subprocess.run(["mount", "--bind", str(resolv), "/etc/resolv.conf"], check=True)
    server = Server()
    port = os.environ["STARFLEET_TEST_PROXY_HTTPS"].rsplit(":", 1)[1]
    env = {**os.environ, "AWS_ENDPOINT_URL_SECRETS_MANAGER": f"https://sm.harness.test:{port}"}
    env.pop("STARFLEET_CONFIG", None)

    cases = [("slow", f"every answer after {args.delay:g} s"), ("lossy", "the first lookup's queries lost")]
    results = {}
    for _ in range(args.runs):
        for mode, _ in cases:
            for label, script in WORKERS.items():
                server.reset(mode, args.delay)
                started = time.perf_counter()
                out = subprocess.run([args.python, str(COLD / script)], env=env, capture_output=True, text=True)
                took = time.perf_counter() - started
                outcome = "read" if out.returncode == 0 else failure(out.stderr)
                results.setdefault((mode, label), []).append((took, outcome, server.queries))

    lines = [
        f"{args.runs} runs per row, interleaved; the harness's HTTPS listener by a name only the test DNS "
        "server resolves; seconds from start to exit of a whole process.",
        "",
        "| DNS server | worker | seconds (median; each run) | outcome | DNS queries (median) |",
        "| --- | --- | ---: | --- | ---: |",
    ]
    for mode, what in cases:
        for label in WORKERS:
            runs = results[(mode, label)]
            outcomes = sorted({o for _, o, _ in runs})
            lines.append(
                f"| {mode}: {what} | {label} | {statistics.median(t for t, _, _ in runs):.2f} "
                f"({', '.join(f'{t:.2f}' for t, _, _ in runs)}) | {'; '.join(outcomes)} "
                f"| {statistics.median(q for _, _, q in runs):g} |"
            )
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    if args.out:
        Path(args.out).write_text(
            f"# A slow or lossy DNS server\n\nCommand: `{args.command}`\n\n{__doc__.split(chr(10), 1)[1].strip()}\n\n{text}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
