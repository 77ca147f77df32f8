#!/usr/bin/env python3
"""Where a cold start's CPU goes: `perf script` samples of whole processes, by category.

    categorize.py --hz HZ ROW=DIR [ROW=DIR ...]
    categorize.py --hz HZ --frame REGEX [--frame REGEX ...] ROW=DIR [ROW=DIR ...]

Each DIR holds `*.txt` files, the `perf script` output of one run each (perf record -g of the
whole process, every thread). A sample goes to the first category below whose pattern matches
any frame of its call chain (so a page fault taken while parsing the root bundle counts as the
trust store, and one taken by the dynamic loader as loading). Prints, per category, the median
over the runs of its CPU in ms (samples / HZ), per ROW, and the difference of the last ROW
minus the first (a package's worker minus the bare runtime). Only meaningful on a library
built with symbols (`bench/overhead/profile` says how).

With `--frame`, prints instead, per REGEX and ROW, the CPU per run (mean, ms) of the samples
whose call chain holds a frame matching REGEX: one function's inclusive cost, whatever
category its samples went to (code the compiler inlined into a caller is only found by the
caller's name).
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
        r"|rustls_root_certs|rustls_native_certs|openssl_probe"
        # The SDK's rustls configuration, whose cost is decoding the roots' PEM (inlined into
        # an iterator adapter, so no pem frame names it: RESULTS.md, sixth round).
        r"|create_rustls_client_config",
    ),
    (
        "TLS handshake (rustls, ring)",
        # `\bring::`: ring's frames, not every `String::` (V8's, in Node's rows).
        r"rustls::|\bring::|ring_core|tokio_rustls|hyper_rustls",
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


def chains(path: Path) -> List[List[str]]:
    """The call chain ("address symbol (dso)" frames, leaf first) of each sample in `path`."""
    found: List[List[str]] = []
    chain: List[str] = []
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith(("\t", " ")) and line.strip():
            chain.append(line.strip())
        elif chain:
            found.append(chain)
            chain = []
    if chain:
        found.append(chain)
    return found


def samples(path: Path) -> Counter:
    counts: Counter = Counter()
    for chain in chains(path):
        category = next((n for n, p in COMPILED if any(p.search(f) for f in chain)), OTHER)
        counts[category] += 1
    return counts


def frames(patterns: List[str], rows: List[str], hz: float) -> None:
    """Per pattern and row, the mean CPU per run of the samples with a matching frame."""
    compiled = [re.compile(p) for p in patterns]
    names = [spec.partition("=")[0] for spec in rows]
    print("| frame | " + " | ".join(f"{n}, CPU ms per run" for n in names) + " |")
    print("| --- |" + " ---: |" * len(rows))
    cells: List[List[str]] = [[] for _ in patterns]
    for spec in rows:
        runs = [chains(p) for p in sorted(Path(spec.partition("=")[2]).glob("*.txt"))]
        for i, pattern in enumerate(compiled):
            hits = sum(1 for run in runs for chain in run if any(pattern.search(f) for f in chain))
            cells[i].append(f"{hits / max(len(runs), 1) / hz * 1000:.2f}")
    for pattern, row in zip(patterns, cells):
        print(f"| `{pattern}` | " + " | ".join(row) + " |")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hz", type=float, required=True)
    parser.add_argument("--frame", action="append", default=[], help="a frame's regex (see the doc)")
    parser.add_argument("rows", nargs="+")
    args = parser.parse_args()
    if args.frame:
        frames(args.frame, args.rows, args.hz)
        return 0
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
