#!/usr/bin/env python3
"""Python warm reads as per-process ratios: for each build (LABEL=DIR, a directory holding a
`starfleet_secrets` package, as bench/overhead/warm-python lays out under target/warm-python),
ROUNDS worker processes of warm.py, interleaved; prints per build the medians of `get(path)`
and of the lazy property, and the median over processes of `get(path)` / property measured in
the same process, which cancels the speed differences between processes (hash seed, layout,
the other core's load) that make whole-row medians of separate processes drift.

Run inside the harness with the environment bench/overhead/warm-python sets, after it laid
out the builds:
    bench/overhead/warm_ratio.py ROUNDS LABEL=DIR [LABEL=DIR ...]
"""
import json, statistics, subprocess, sys, os
rounds=int(sys.argv[1]); builds=[a.split('=',1) for a in sys.argv[2:]]
res={l:[] for l,_ in builds}
for r in range(rounds):
    for label, d in builds:
        out=subprocess.run(['env',f'PYTHONPATH={d}','.venv/bin/python','bench/overhead/warm.py','--worker','200000'],capture_output=True,text=True,check=True).stdout
        res[label].append(json.loads(out))
# warm.py's rows, in its order: dict read, lazy property, .secrets[...], get(path), get(a, b)
keys=list(res[builds[0][0]][0])
for label,_ in builds:
    rows=res[label]
    prop=[x[keys[1]] for x in rows]; get1=[x[keys[3]] for x in rows]; sec=[x[keys[2]] for x in rows]
    print(label, 'property', round(statistics.median(prop),1), 'get', round(statistics.median(get1),1),
          'get/property per process: median', round(statistics.median([g/p for g,p in zip(get1,prop)]),2),
          'min', round(min(g/p for g,p in zip(get1,prop)),2), 'max', round(max(g/p for g,p in zip(get1,prop)),2),
          '.secrets/property median', round(statistics.median([s/p for s,p in zip(sec,prop)]),2))
print('load', os.getloadavg())
