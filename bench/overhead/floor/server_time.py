"""The server's share of a cold start: the harness's answer to GetSecretValue (moto behind the
fault proxy) over one kept-alive HTTPS connection, and a TLS handshake on loopback, timed in
one warm process, so neither includes any runtime or library start-up.

    server_time.py [N]        N requests and N handshakes (default 50); prints two lines

Environment as for the workers (bench/overhead/run sets it): AWS_ENDPOINT_URL_SECRETS_MANAGER,
AWS_CA_BUNDLE, STARFLEET_SECRET_ID, STARFLEET_SECRET_REGION.
"""

import http.client
import os
import ssl
import statistics
import sys
import time

from floor import BODY, HEADERS, URL  # the request of the floor row

n = int(sys.argv[1]) if len(sys.argv) > 1 else 50
context = ssl.create_default_context(cafile=os.environ["AWS_CA_BUNDLE"])


def connect() -> http.client.HTTPSConnection:
    connection = http.client.HTTPSConnection(URL.hostname, URL.port, context=context)
    connection.connect()
    return connection


def answer(connection: http.client.HTTPSConnection) -> None:
    connection.request("POST", "/", body=BODY, headers=HEADERS)
    response = connection.getresponse()
    assert response.status == 200, response.status
    response.read()


kept = connect()
answer(kept)  # warm: moto's first answer to a new secret is slower
requests, handshakes = [], []
for _ in range(n):
    started = time.perf_counter()
    answer(kept)
    requests.append((time.perf_counter() - started) * 1000)
    started = time.perf_counter()
    connect().close()
    handshakes.append((time.perf_counter() - started) * 1000)
print(
    f"server: GetSecretValue answered over a kept-alive connection in {statistics.median(requests):.1f} ms "
    f"(median of {n}; {min(requests):.1f}–{max(requests):.1f})"
)
print(
    f"server: a TCP connect and TLS handshake on loopback (Python's ssl) in {statistics.median(handshakes):.1f} ms "
    f"(median of {n}; {min(handshakes):.1f}–{max(handshakes):.1f})"
)
