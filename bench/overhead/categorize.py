#!/usr/bin/env python3
"""Where a cold start's CPU goes: `perf script` samples of whole processes, by category.

    categorize.py --hz HZ ROW=DIR [ROW=DIR ...]

Each DIR holds `*.txt` files, the `perf script` output of one run each (perf record -g of the
whole process, every thread). A sample goes to the first category below whose pattern matches
any frame of its call chain (so a page fault taken while parsing the root bundle counts as the
trust store, and one taken by the dynamic loader as loading). Prints, per category, the median
over the runs of its CPU in ms (samples / HZ), per ROW, and the difference of the last ROW
minus the first (a package's worker minus the bare runtime). Only meaningful on a library
built with symbols (`bench/overhead/profile` says how).
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
from collections import Counter
from pathlib import Path
from typing import Dict, List, Tuple

#: (category, pattern over one frame line "symbol (dso)"), in priority order.
CATEGORIES: List[Tuple[str, str]] = [
    (
        "trust store (read and parse the root bundle)",
        r"trusted_roots|bundle_file|transport::find|rustls_pki_types::pem|rustls\S*RootCertStore|anchor_from_trusted_cert"
        r"|rustls_root_certs|rustls_native_certs|openssl_probe",
    ),
    (
        "TLS handshake (rustls, ring)",
        r"rustls::|ring::|ring_core|tokio_rustls|hyper_rustls",
    ),
    (
        "config and credentials resolution",
        r"aws_config::|env_config|aws_runtime::|credential|starfleet_secrets::settings|starfleet_secrets::config"
        r"|starfleet_secrets::yaml|aws_types::",
    ),
    (
        "runtime start (tokio, threads)",
        r"tokio::runtime::builder|tokio::runtime::blocking::pool::Spawner|starfleet_secrets::runtime::get"
        r"|std::thread::Builder|pthread_create|clone3|copy_process|ret_from_fork",
    ),
    (
        "request (HTTP, SigV4, the SDK's operation, JSON)",
        r"hyper|aws_smithy|aws_sigv4|aws_sdk_secretsmanager|serde_json|starfleet_secrets::source|h2::|http::"
        r"|starfleet_secrets::document|tcp_|inet_|sock_|__sys_connect|sendto|recvfrom|tokio::",
    ),
    (
        "dynamic loading and relocation",
        r"\(/[^)]*ld-linux[^)]*\)|_dl_|do_lookup_x|elf_machine|dl_main|load_elf_binary|_dl_start",
    ),
    # The library's own file: the C library, the Python extension, the Node addon; not a
    # program whose name merely contains "starfleet" (the Go worker, starfleet-go-worker,
    # whose samples are the Go runtime's and its own).
    ("the library, other", r"\(/[^)]*(libstarfleet_secrets[^)/]*|_native[^)/]*|starfleet-secrets\.[^)/]*\.node)\)"),
    ("kernel (exec, page faults, exit, other)", r"\[kernel\.kallsyms\]"),
]
OTHER = "the runtime itself (interpreter, JIT, Go runtime, libc)"
COMPILED = [(name, re.compile(p)) for name, p in CATEGORIES]


def samples(path: Path) -> Counter:
    counts: Counter = Counter()
    chain: List[str] = []

    def flush() -> None:
        if chain:
            category = next((n for n, p in COMPILED if any(p.search(f) for f in chain)), OTHER)
            counts[category] += 1
        chain.clear()

    for line in path.read_text(errors="replace").splitlines():
        if not line.strip():
            flush()
        elif line.startswith(("\t", " ")):
            chain.append(line.strip())
        else:
            flush()
    flush()
    return counts


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hz", type=float, required=True)
    parser.add_argument("rows", nargs="+")
    args = parser.parse_args()
    per_row: Dict[str, List[Counter]] = {}
    for spec in args.rows:
        name, _, directory = spec.partition("=")
        per_row[name] = [samples(p) for p in sorted(Path(directory).glob("*.txt"))]
    names = [n for n, _ in CATEGORIES] + [OTHER]
    rows = list(per_row)
    ms = 1000 / args.hz

    def median(row: str, category: str | None) -> float:
        runs = per_row[row]
        values = [sum(c.values()) if category is None else c[category] for c in runs]
        return statistics.median(values) * ms if values else 0.0

    header = "| category | " + " | ".join(f"{r}, CPU ms" for r in rows)
    header += f" | {rows[-1]} − {rows[0]} |" if len(rows) > 1 else " |"
    print(header)
    print("| --- |" + " ---: |" * (len(rows) + (len(rows) > 1)))
    for category in names + [None]:
        values = [median(r, category) for r in rows]
        label = "**total (median run)**" if category is None else category
        cells = " | ".join(f"{v:.1f}" for v in values)
        diff = f" | {values[-1] - values[0]:+.1f} |" if len(rows) > 1 else " |"
        print(f"| {label} | {cells}{diff}")
    print()
    print(
        f"{min(len(v) for v in per_row.values())} runs per row; "
        f"medians per category (they need not add up to the median total)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
