"""An HTTP ``CONNECT`` proxy, as a corporate network or a VPC without NAT gives a worker.

The harness starts these on demand (``POST /__harness/connect-proxies``), each on its own
listener on 127.0.0.1, so tests running in parallel each count their own tunnels. A proxy:

* answers ``CONNECT host:port`` by opening a TCP connection to the target and relaying bytes
  both ways, so TLS runs end to end between the client and the target (the proxy sees only
  the host name). It counts every tunnel it opened, per target.
* resolves names under ``.harness.test`` to 127.0.0.1 itself: an endpoint under that domain
  (``https://secretsmanager.harness.test:S``, which the harness certificate covers) is
  reachable only through a proxy, as a host outside the worker's own DNS is.
* forwards a plain-HTTP request in absolute form (``GET http://host:port/path``), as an
  ``http_proxy`` receives a client's requests to an ``http://`` endpoint: it sends it on to
  the target in origin form, with ``Connection: close``, and relays the answer with
  ``Connection: close`` in its head, so the client sends its next request on a new
  connection. It counts those per target too.
* optionally requires ``Proxy-Authorization: Basic`` for ``user:password`` (else ``407``),
  or refuses every request with a given status (``403`` by default).
* optionally speaks TLS itself (an ``https://`` proxy URL), with the harness's server
  certificate: the client verifies the proxy, then, inside, the endpoint.
* optionally answers each ``CONNECT`` only after a delay (``delay_ms``), as a healthy proxy
  whose own connection upstream is slow (a distant region, a slow resolver of its own) does:
  the tunnel is opened, and works, after that long.
* answers anything else (a request in origin form) with ``405``.
"""

from __future__ import annotations

import base64
import select
import socket
import ssl
import threading
from typing import Any
from urllib.parse import urlsplit

#: Names the proxy resolves itself; the client cannot.
PRIVATE_DOMAIN = ".harness.test"
CONNECT_TIMEOUT_S = 5
#: Longest request head accepted (request line and headers).
MAX_HEAD = 16 * 1024


class ConnectProxy:
    """One CONNECT proxy listening on 127.0.0.1 (a free port), served by a daemon thread."""

    def __init__(
        self,
        proxy_id: int,
        auth: str | None = None,
        refuse: int | None = None,
        tls: ssl.SSLContext | None = None,
        delay_ms: float = 0,
    ):
        self.id = proxy_id
        self.auth = auth
        self.refuse = refuse
        self.tls = tls
        self.delay_s = delay_ms / 1000
        self._lock = threading.Lock()
        self._tunnels: dict[str, int] = {}
        # Every CONNECT target asked for, tunnel opened or not: which host a client chose.
        self._requested: dict[str, int] = {}
        # Plain-HTTP requests forwarded, per target.
        self._forwarded: dict[str, int] = {}
        self._refused = 0
        self._open: set[socket.socket] = set()
        self._closed = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        threading.Thread(target=self._accept, name=f"connect-proxy-{proxy_id}", daemon=True).start()

    # ---- state

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "id": self.id,
                "url": self.url,
                "tunnels": sum(self._tunnels.values()),
                "targets": dict(self._tunnels),
                "requested": dict(self._requested),
                "forwarded": sum(self._forwarded.values()),
                "forward_targets": dict(self._forwarded),
                "refused": self._refused,
            }

    def close(self) -> None:
        """Stop listening and cut every open tunnel."""
        self._closed.set()
        self._listener.close()
        with self._lock:
            sockets, self._open = list(self._open), set()
        for sock in sockets:
            _close(sock)

    # ---- serving

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), name="connect-proxy-conn", daemon=True).start()

    def _track(self, sock: socket.socket) -> bool:
        with self._lock:
            if self._closed.is_set():
                return False
            self._open.add(sock)
            return True

    def _serve(self, client: socket.socket) -> None:
        if not self._track(client):
            _close(client)
            return
        upstream: socket.socket | None = None
        try:
            client.settimeout(CONNECT_TIMEOUT_S)
            if self.tls is not None:
                wrapped = self.tls.wrap_socket(client, server_side=True)
                with self._lock:
                    self._open.discard(client)
                client = wrapped
                if not self._track(client):
                    return
            head = _read_head(client)
            if head is None:
                return
            request_line, headers, early, header_lines = head
            parts = request_line.split()
            connect = len(parts) == 3 and parts[0].upper() == "CONNECT"
            forward = len(parts) == 3 and parts[1].lower().startswith("http://")
            if not (connect or forward):
                _reply(client, 405, "Method Not Allowed")
                return
            if forward:
                url = urlsplit(parts[1])
                target = f"{url.hostname}:{url.port or 80}"
            else:
                target = parts[1]
            with self._lock:
                self._requested[target] = self._requested.get(target, 0) + 1
            if self.refuse is not None:
                self._count_refusal()
                _reply(client, self.refuse, "Refused by the harness")
                return
            if self.auth is not None and headers.get("proxy-authorization") != _basic(self.auth):
                self._count_refusal()
                _reply(client, 407, "Proxy Authentication Required", 'Proxy-Authenticate: Basic realm="harness"\r\n')
                return
            host, _, port = target.rpartition(":")
            host = host.strip("[]")
            address = "127.0.0.1" if host.lower().endswith(PRIVATE_DOMAIN) else host
            try:
                upstream = socket.create_connection((address, int(port)), timeout=CONNECT_TIMEOUT_S)
            except (OSError, ValueError):
                _reply(client, 502, "Bad Gateway")
                return
            if not self._track(upstream):
                return
            if forward:
                with self._lock:
                    self._forwarded[target] = self._forwarded.get(target, 0) + 1
                # Origin form, without the proxy's own headers; one request per connection,
                # so a client's next request comes to the proxy again.
                path = url.path or "/"
                if url.query:
                    path += "?" + url.query
                kept = [
                    line
                    for line in header_lines
                    if line.partition(":")[0].strip().lower()
                    not in ("proxy-authorization", "proxy-connection", "connection", "keep-alive")
                ]
                request = "\r\n".join([f"{parts[0]} {path} {parts[2]}", *kept, "Connection: close", "", ""])
                upstream.sendall(request.encode("latin-1") + early)
            else:
                # A slow proxy: the client hears nothing until then (and may give up).
                if self._closed.wait(self.delay_s):
                    return
                with self._lock:
                    self._tunnels[target] = self._tunnels.get(target, 0) + 1
                client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                if early:
                    upstream.sendall(early)
            client.settimeout(None)
            upstream.settimeout(None)
            if self.tls is not None:
                _relay_tls(client, upstream)
                return
            answer = _forward_answer if forward else _pipe
            relay = threading.Thread(target=answer, args=(upstream, client), name="connect-proxy-relay", daemon=True)
            relay.start()
            _pipe(client, upstream)
            relay.join()
        except OSError:
            pass
        finally:
            for sock in (client, upstream):
                if sock is not None:
                    with self._lock:
                        self._open.discard(sock)
                    _close(sock)

    def _count_refusal(self) -> None:
        with self._lock:
            self._refused += 1


def _basic(credentials: str) -> str:
    return "Basic " + base64.b64encode(credentials.encode()).decode()


def _read_head(sock: socket.socket) -> tuple[str, dict[str, str], bytes, list[str]] | None:
    """The request line, headers (names in lower case), any bytes the client sent after
    them and the header lines as sent, or None if the client left."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk or len(data) > MAX_HEAD:
            return None
        data += chunk
    head, early = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return lines[0], headers, early, lines[1:]


def _reply(sock: socket.socket, status: int, reason: str, extra: str = "") -> None:
    sock.sendall(f"HTTP/1.1 {status} {reason}\r\n{extra}Content-Length: 0\r\nConnection: close\r\n\r\n".encode())


def _forward_answer(upstream: socket.socket, client: socket.socket) -> None:
    """Relay a forwarded request's answer, saying ``Connection: close`` in its head: the proxy
    serves one request per connection, so a client must not send its next request on this one
    (it would race the proxy's close, and lose when the machine is busy)."""
    try:
        head = _read_head(upstream)
    except OSError:
        head = None
    if head is None:
        try:
            client.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        return
    status_line, _, early, header_lines = head
    kept = [line for line in header_lines if line.partition(":")[0].strip().lower() not in ("connection", "keep-alive")]
    try:
        client.sendall("\r\n".join([status_line, *kept, "Connection: close", "", ""]).encode("latin-1") + early)
    except OSError:
        return
    _pipe(upstream, client)


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    """Copy until `source` ends, then end `sink`'s sending side."""
    try:
        while True:
            chunk = source.recv(65536)
            if not chunk:
                break
            sink.sendall(chunk)
    except OSError:
        pass
    try:
        sink.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def _relay_tls(client: ssl.SSLSocket, upstream: socket.socket) -> None:
    """Copy both ways in this one thread until both sides end: an SSL socket must not be
    read and written from two threads at once. Bytes TLS already decrypted are not seen by
    select, so they are drained first."""
    open_sides = {client: upstream, upstream: client}
    while open_sides:
        ready = [sock for sock in open_sides if isinstance(sock, ssl.SSLSocket) and sock.pending()]
        if not ready:
            ready, _, _ = select.select(list(open_sides), [], [])
        for source in ready:
            sink = open_sides[source]
            try:
                chunk = source.recv(65536)
            except ssl.SSLWantReadError:
                continue
            except OSError:
                chunk = b""
            if chunk:
                try:
                    sink.sendall(chunk)
                    continue
                except OSError:
                    pass
            del open_sides[source]
            if sink is upstream:
                try:
                    upstream.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
            elif sink in open_sides:
                # The client's TLS cannot be half-closed: the target is done, so is the relay.
                return


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()
