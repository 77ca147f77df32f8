#!/usr/bin/env python3
"""Warm reads, ns per read, of several builds interleaved: one worker process per build and
round, each printing {read: ns} as JSON; medians over rounds (bench/overhead/warm runs it).

    warm.py --rounds R [--ratio-to-row N] LABEL=COMMAND ...   (driver; COMMAND tab-separated)
    warm.py --worker N                                          (the Python worker: one round)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import timeit

STATEMENTS = [
    ("a plain dict read: `d[\"STARFLEET\"][\"SlackToken\"]`", 'D["STARFLEET"]["SlackToken"]'),
    ("Starfleet's lazy property: `PROPERTY.secrets[...][...]`", 'PROPERTY.secrets["STARFLEET"]["SlackToken"]'),
    ("`SECRETS_MANAGER.secrets[...][...]` (TTL 300 s, checked each read)", 'M.secrets["STARFLEET"]["SlackToken"]'),
    ('`SECRETS_MANAGER.get("STARFLEET.SlackToken")`', 'M.get("STARFLEET.SlackToken")'),
    ('`SECRETS_MANAGER.get("STARFLEET", "SlackToken")`', 'M.get("STARFLEET", "SlackToken")'),
]


class Property:
    """Starfleet's own SecretsManager (starfleet/utils/secrets.py): a lazy property, no TTL."""

    def __init__(self, doc):
        self._secrets = {}
        self._doc = doc

    def load_secrets(self):
        self._secrets = self._doc

    @property
    def secrets(self):
        if not self._secrets:
            self.load_secrets()
        return self._secrets


def worker(number: int) -> None:
    from starfleet_secrets import SECRETS_MANAGER as M

    token = M.get("STARFLEET.SlackToken")
    doc = json.loads(json.dumps(M.secrets))
    names = {"M": M, "PROPERTY": Property(doc), "D": doc}
    for _, stmt in STATEMENTS:
        assert eval(stmt, names) == token
    out = {}
    for name, stmt in STATEMENTS:
        t = timeit.Timer(stmt, globals=names)
        out[name] = min(t.repeat(repeat=5, number=number)) / number * 1e9
    assert M.stats()["fetches"] == 1
    print(json.dumps(out))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--worker", type=int, help="one round in this process (a build's venv)")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--title", default="")
    ap.add_argument("--ratio-to-row", type=int, default=1, help="every read's ratio to this row's (1-based)")
    ap.add_argument("builds", nargs="*", help="LABEL=COMMAND (tab-separated argv printing {read: ns})")
    args = ap.parse_args()
    if args.worker:
        worker(args.worker)
        return 0
    builds = [(b.split("=", 1)[0], b.split("=", 1)[1].split("\t")) for b in args.builds]
    samples: dict = {}
    names: dict = {}
    for _ in range(args.rounds):
        for label, argv in builds:
            out = subprocess.run(argv, check=True, capture_output=True, text=True)
            for name, ns in json.loads(out.stdout).items():
                names[name] = None
                samples.setdefault((label, name), []).append(ns)
    labels = [label for label, _ in builds]
    print(f"{args.title}: {args.rounds} rounds, one process per build and round, interleaved; "
          f"ns per read (best of 5 batches per round), median over rounds; load average {os.getloadavg()[0]:.2f}")
    print()
    ratio = list(names)[args.ratio_to_row - 1]
    head = [f"{l}, ns" for l in labels] + [f"{l} / row {args.ratio_to_row}" for l in labels]
    print("| read | " + " | ".join(head) + " |")
    print("| --- |" + " ---: |" * len(head))
    for name in names:
        meds = [statistics.median(samples[(l, name)]) for l in labels]
        cells = [f"{m:.1f}" for m in meds]
        cells += [f"{m / statistics.median(samples[(l, ratio)]):.2f}×" for m, l in zip(meds, labels)]
        print(f"| {name} | " + " | ".join(cells) + " |")
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
