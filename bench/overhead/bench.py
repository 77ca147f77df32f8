#!/usr/bin/env python3
"""Start-up overhead over the bare runtime, per language, in one interleaved run.

    bench.py --runs N --spec FILE [--order shuffled|fixed] [--out RESULTS.md --command "..."]

FILE lists the programs, one per line: ``LANGUAGE<TAB>ROLE<TAB>LABEL<TAB>ENV<TAB>ARGV...``
(tab-separated; ENV is ``-`` or, separated by spaces, ``VAR=VALUE`` pairs to set and ``-VAR``
names to remove from the environment, a ``$VAR`` in a VALUE expanded from this process's
environment, e.g. a path the harness chose; ROLE is ``bare``,
``package``, ``control``, ``floor`` or ``sdk``; a floor row is the runtime's own minimal client doing the same request,
bench/overhead/floor; a control row is the package's worker with the package taken out: the
same kind of script file, the same writes, a constant for the value). Every program runs once unmeasured (page cache, .pyc files), then
all of them round-robin, N rounds, so load drifts alike for every row, each round in a new
shuffled order (seeded, so a run can be repeated), so that no row always follows the same
one: a process starts faster right after one of the same runtime and slower right after a
heavy one, and the file's order (`--order fixed`, every run before 2026-12-08) had each
package row follow its control row, and the bare Node row follow boto3's
(bench/overhead/RESULTS.md, sixteenth round). Each run is one whole
process: wall time from fork() to wait4(), and the child's user + system CPU from wait4().
A program must exit 0 (the workers check the value they read).

Prints, per language: the bare runtime, each package build (LABEL: several dist/ builds,
e.g. before and after a change, interleaved in the same run), the AWS SDK, the package's
overhead over the bare runtime (difference of the medians), the floor's, and the ratio to the SDK;
where a language has a control row, also each package build's overhead over it (CPU): what the
package adds to its worker, without what the worker itself adds to the bare runtime.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections import defaultdict
from typing import Dict, List, Tuple


def run_once(argv: List[str], env: Dict[str, str]) -> Tuple[float, float]:
    """Wall ms and CPU ms (user + system) of one whole process."""
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.execve(argv[0], argv, env)
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    wall = (time.perf_counter() - started) * 1000
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(argv)} exited with {os.waitstatus_to_exitcode(status)}")
    return wall, (usage.ru_utime + usage.ru_stime) * 1000


def parse_spec(path: str) -> List[Tuple[str, str, str, Dict[str, str], List[str]]]:
    programs = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip() or line.startswith("#"):
                continue
            language, role, label, env_text, *argv = line.rstrip("\n").split("\t")
            env = dict(os.environ)
            if env_text != "-":
                for item in env_text.split(" "):
                    if item.startswith("-"):
                        env.pop(item[1:], None)
                    else:
                        name, _, value = item.partition("=")
                        env[name] = os.path.expandvars(value)
            programs.append((language, role, label, env, argv))
    return programs


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--spec", required=True)
    parser.add_argument("--out")
    parser.add_argument("--command", default="bench/overhead/run")
    parser.add_argument("--order", choices=["shuffled", "fixed"], default="shuffled")
    args = parser.parse_args()
    programs = parse_spec(args.spec)
    for _, _, _, env, argv in programs:
        run_once(argv, env)
    load_before = open("/proc/loadavg").read().split()[:3]
    wall: Dict[Tuple[str, str, str], List[float]] = defaultdict(list)
    cpu: Dict[Tuple[str, str, str], List[float]] = defaultdict(list)
    order = random.Random(27)
    for _ in range(args.runs):
        this_round = programs if args.order == "fixed" else order.sample(programs, len(programs))
        for language, role, label, env, argv in this_round:
            w, c = run_once(argv, env)
            wall[(language, role, label)].append(w)
            cpu[(language, role, label)].append(c)
    load_after = open("/proc/loadavg").read().split()[:3]

    med = {k: statistics.median(v) for k, v in wall.items()}
    cmed = {k: statistics.median(v) for k, v in cpu.items()}
    lines = [
        f"{args.runs} runs per row, interleaved; medians (min–max). Load average (1, 5, 15 min) "
        f"before {' '.join(load_before)}, after {' '.join(load_after)}.",
        "",
        "| language | row | wall ms | CPU ms | row − bare, wall | row − bare, CPU | package − control, CPU | wall / SDK |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    languages = list(dict.fromkeys(language for language, *_ in programs))
    for language in languages:
        rows = [(r, l) for lang, r, l, *_ in programs if lang == language]
        bare = next(((r, l) for r, l in rows if r == "bare"), None)
        sdk = next(((r, l) for r, l in rows if r == "sdk"), None)
        control = next(((r, l) for r, l in rows if r == "control"), None)
        for role, label in rows:
            key = (language, role, label)
            w = wall[key]
            over_wall = over_cpu = over_control = ratio = ""
            if role in ("package", "control", "floor") and bare:
                over_wall = f"**{med[key] - med[(language, *bare)]:+.1f}**"
                over_cpu = f"{cmed[key] - cmed[(language, *bare)]:+.1f}"
            if role == "package" and control:
                over_control = f"**{cmed[key] - cmed[(language, *control)]:+.1f}**"
            if role not in ("bare", "control") and sdk:
                ratio = f"{med[key] / med[(language, *sdk)]:.2f}×"
            lines.append(
                f"| {language} | {label} | {med[key]:.1f} ({min(w):.1f}–{max(w):.1f}) | {cmed[key]:.1f} "
                f"| {over_wall} | {over_cpu} | {over_control} | {ratio} |"
            )
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    if args.out:
        write_report(args.out, args.command, text)
    return 0


TITLE = "# Start-up overhead over the bare runtime"


def write_report(path: str, command: str, text: str) -> None:
    """Puts this run at the top of the report at ``path``, under its title, and keeps every
    earlier round below it: the file is the history of issue 27's rounds, which the run must
    not erase."""
    try:
        with open(path, encoding="utf-8") as f:
            earlier = f.read()
    except FileNotFoundError:
        earlier = ""
    earlier = earlier.removeprefix(TITLE).lstrip("\n")
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    run = f"## Run of {stamp} (`{command}`)\n\n{text}"
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"{TITLE}\n\n{run}\n{earlier}")


if __name__ == "__main__":
    sys.exit(main())
