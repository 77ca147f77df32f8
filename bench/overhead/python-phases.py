"""The cold read's phases in Python, beside bench/overhead/node-phases.js: wall time of importing
the package and of the first read (which waits for the fetch), and the CPU time of the
library's own threads (named `starfleet-secrets` by its runtime), read from /proc (schedstat)
once the value has arrived. Prints `IMPORT_MS READ_MS LIBRARY_THREADS_MS`.

Run it with the release wheel's Python under the harness, as bench/overhead/run runs the
worker (STARFLEET_SECRET_ID, STARFLEET_SECRET_REGION, AWS_ENDPOINT_URL_SECRETS_MANAGER set).
"""

import os
import time

t0 = time.perf_counter()
from starfleet_secrets import SECRETS_MANAGER  # noqa: E402

t1 = time.perf_counter()
token = SECRETS_MANAGER.secrets["STARFLEET"]["SlackToken"]
t2 = time.perf_counter()
assert isinstance(token, str)
ns = 0
for task in os.listdir("/proc/self/task"):
    with open(f"/proc/self/task/{task}/comm") as comm:
        if not comm.read().startswith("starfleet"):
            continue
    with open(f"/proc/self/task/{task}/schedstat") as stat:
        ns += int(stat.read().split()[0])
print(f"{(t1 - t0) * 1e3:.3f} {(t2 - t1) * 1e3:.3f} {ns / 1e6:.3f}")
