#!/usr/bin/env python3
"""Language-neutral test harness: a moto Secrets Manager server behind a fault proxy.

Every test suite (Rust, Python, Node, Go, C) talks to the same two processes-in-one:

* moto (``moto.server.ThreadedMotoServer``): a real Secrets Manager API on 127.0.0.1.
* a small HTTP/1.1 proxy in front of it that forwards requests verbatim and, on demand,
  injects the faults moto cannot produce (throttling, 5xx, connection resets, delays,
  hangs, black holes). It is steered through a JSON control API under ``/__harness``.
  The proxy listens twice with one shared state: plain HTTP (also where the control API
  is reached) and HTTPS with a certificate from a CA generated at start (``certs.py``),
  because real Secrets Manager is HTTPS only. The SDKs are pointed at the HTTPS one unless
  ``--transport http`` is given.

When both listen, one JSON line is printed to stdout::

    {"moto": "http://127.0.0.1:P", "proxy": "http://127.0.0.1:Q",
     "proxy_https": "https://127.0.0.1:S", "endpoint": "https://127.0.0.1:S",
     "ca": "/tmp/.../ca.pem", ...}

The harness then runs until stdin reaches EOF or it gets SIGTERM/SIGINT/SIGHUP. Tying
its life to stdin means a parent that dies (even by SIGKILL) takes the harness with it.

The control API is documented in README.md next to this file; that file is the contract
the other language suites code against.

Run it with the repo's virtualenv: ``.venv/bin/python tests/harness/harness.py``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import logging
import os
import shlex
import shutil
import signal
import socket
import ssl
import struct
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import certs
from connect_proxy import ConnectProxy

CONTROL_PREFIX = "/__harness"

#: Headers that describe one hop of a connection, not the message (RFC 9110 7.6.1).
#: They must not be relayed: the proxy manages its own framing and keep-alive.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)

DEFAULT_OPERATION = "GetSecretValue"
ANY_OPERATION = "*"
UNKNOWN_OPERATION = "Unknown"
DEFAULT_HANG_MS = 60_000
UPSTREAM_TIMEOUT_S = 120

#: Parameters each action accepts, with defaults (``REQUIRED`` = must be given).
REQUIRED = object()
ACTION_PARAMS: dict[str, dict[str, Any]] = {
    "throttle": {},
    "error": {
        "status": 500,
        "code": "InternalServiceError",
        "message": "Injected error from the starfleet test harness",
    },
    "reset": {},
    "delay": {"delay_ms": REQUIRED},
    "hang": {"hang_ms": DEFAULT_HANG_MS},
}
RULE_KEYS = frozenset({"secret_id", "operation", "action", "times", "connection", "region"})
#: Which requests a rule applies to by the connection they arrive on: any, only the first
#: request of a connection, or only later ones (a reused keep-alive connection, which is
#: what a NAT gateway or a Lambda freeze silently kills).
CONNECTION_KINDS = ("any", "new", "reused")
#: A client that opens a TLS connection and never finishes the handshake holds one thread.
HANDSHAKE_TIMEOUT_S = 10
TRANSPORTS = ("https", "http")

log = logging.getLogger("starfleet.harness")


# --------------------------------------------------------------------------- state


class ControlError(Exception):
    """A bad control-API request; reported to the caller as JSON with ``status``."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


@dataclass
class FaultRule:
    """One fault to inject. ``remaining`` is None for unlimited uses."""

    id: int
    secret_id: str | None
    operation: str
    action: str
    remaining: int | None
    params: dict[str, Any] = field(default_factory=dict)
    connection: str = "any"
    region: str | None = None

    def matches(self, secret_id: str | None, operation: str, reused: bool, region: str | None = None) -> bool:
        """A rule with no secret_id (or region) matches any request; "*" matches any operation."""
        if self.secret_id is not None and self.secret_id != secret_id:
            return False
        if self.region is not None and self.region != region:
            return False
        if self.connection != "any" and (self.connection == "reused") != reused:
            return False
        return self.operation in (ANY_OPERATION, operation)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "secret_id": self.secret_id,
            "operation": self.operation,
            "action": self.action,
            "remaining": self.remaining,
            "connection": self.connection,
            "region": self.region,
            **self.params,
        }


def _is_int(value: Any) -> bool:
    """JSON ints only: Python's bool is an int, but ``true`` is never a valid count."""
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return _is_int(value) or isinstance(value, float)


def parse_rule(rule_id: int, spec: Any) -> FaultRule:
    """Validate a ``POST /__harness/faults`` body strictly.

    Unknown keys are rejected rather than ignored, so a typo in another language's
    suite (``delayMs``) fails loudly instead of silently injecting the wrong fault.
    """
    if not isinstance(spec, dict):
        raise ControlError(400, "fault spec must be a JSON object")
    action = spec.get("action")
    if action not in ACTION_PARAMS:
        raise ControlError(400, f"action must be one of {sorted(ACTION_PARAMS)}")
    allowed = RULE_KEYS | ACTION_PARAMS[action].keys()
    unknown = sorted(set(spec) - allowed)
    if unknown:
        raise ControlError(400, f"unknown keys for action {action!r}: {unknown}")

    secret_id = spec.get("secret_id")
    if secret_id is not None and not isinstance(secret_id, str):
        raise ControlError(400, "secret_id must be a string or null")
    operation = spec.get("operation", DEFAULT_OPERATION)
    if not isinstance(operation, str) or not operation:
        raise ControlError(400, "operation must be a non-empty string")
    times = spec.get("times", 1)
    if not _is_int(times):
        raise ControlError(400, "times must be an integer")
    connection = spec.get("connection", "any")
    if connection not in CONNECTION_KINDS:
        raise ControlError(400, f"connection must be one of {list(CONNECTION_KINDS)}")
    region = spec.get("region")
    if region is not None and (not isinstance(region, str) or not region):
        raise ControlError(400, "region must be a non-empty string or null")

    params = {}
    for key, default in ACTION_PARAMS[action].items():
        if key not in spec and default is REQUIRED:
            raise ControlError(400, f"action {action!r} requires {key!r}")
        params[key] = spec.get(key, default)
    _check_params(action, params)
    return FaultRule(
        id=rule_id,
        secret_id=secret_id,
        operation=operation,
        action=action,
        remaining=times if times > 0 else None,
        params=params,
        connection=connection,
        region=region,
    )


def _check_params(action: str, params: dict[str, Any]) -> None:
    """Type-check action parameters so a bad rule fails at POST time, not mid-test."""
    if action == "error":
        if not _is_int(params["status"]) or not 100 <= params["status"] <= 599:
            raise ControlError(400, "status must be an integer HTTP status (100-599)")
        for key in ("code", "message"):
            if not isinstance(params[key], str):
                raise ControlError(400, f"{key} must be a string")
    for key in ("delay_ms", "hang_ms"):
        if key in params and (not _is_number(params[key]) or params[key] < 0):
            raise ControlError(400, f"{key} must be a non-negative number")


class HarnessState:
    """Fault rules and request counts, shared by all proxy threads under one lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._next_id = 1
        # (secret_id or None, operation) -> number of requests seen
        self._counts: dict[tuple[str | None, str], int] = {}
        # (arrival time in Unix seconds, secret_id, operation) of every counted request, in
        # arrival order: benchmarks plot calls per second over time from these.
        self._arrivals: list[tuple[float, str | None, str, str | None]] = []
        # CONNECT proxies started through the control API, by id.
        self._connect_proxies: dict[int, ConnectProxy] = {}
        self._next_proxy_id = 1
        # The server certificate's context, for CONNECT proxies that speak TLS themselves.
        self.proxy_tls: ssl.SSLContext | None = None

    def add_connect_proxy(self, spec: Any) -> ConnectProxy:
        """Start a CONNECT proxy: ``{"auth": "user:password", "refuse": 403, "tls": true,
        "delay_ms": 4000}``, all optional."""
        if not isinstance(spec, dict) or set(spec) - {"auth", "refuse", "tls", "delay_ms"}:
            raise ControlError(
                400,
                'connect-proxies takes {"auth": "user:password", "refuse": status, "tls": true, "delay_ms": ms}',
            )
        auth, refuse, tls = spec.get("auth"), spec.get("refuse"), spec.get("tls", False)
        delay_ms = spec.get("delay_ms", 0)
        if isinstance(delay_ms, bool) or not isinstance(delay_ms, (int, float)) or not 0 <= delay_ms <= 60_000:
            raise ControlError(400, "delay_ms must be a number of milliseconds, 0-60000")
        if not isinstance(tls, bool):
            raise ControlError(400, "tls must be true or false")
        if tls and self.proxy_tls is None:
            raise ControlError(400, "this harness has no certificate for a TLS proxy")
        if auth is not None and (not isinstance(auth, str) or ":" not in auth):
            raise ControlError(400, "auth must be a string user:password")
        if refuse is not None and (not _is_int(refuse) or not 400 <= refuse <= 599):
            raise ControlError(400, "refuse must be an HTTP error status (400-599)")
        with self._lock:
            proxy = ConnectProxy(self._next_proxy_id, auth, refuse, self.proxy_tls if tls else None, delay_ms)
            self._connect_proxies[proxy.id] = proxy
            self._next_proxy_id += 1
            return proxy

    def connect_proxy(self, proxy_id: str) -> ConnectProxy:
        with self._lock:
            proxy = self._connect_proxies.get(int(proxy_id)) if proxy_id.isdigit() else None
        if proxy is None:
            raise ControlError(404, f"no connect proxy {proxy_id}")
        return proxy

    def remove_connect_proxy(self, proxy_id: str) -> None:
        proxy = self.connect_proxy(proxy_id)
        with self._lock:
            self._connect_proxies.pop(proxy.id, None)
        proxy.close()

    def close_connect_proxies(self) -> None:
        with self._lock:
            proxies, self._connect_proxies = list(self._connect_proxies.values()), {}
        for proxy in proxies:
            proxy.close()

    def add_rule(self, spec: Any) -> FaultRule:
        with self._lock:
            rule = parse_rule(self._next_id, spec)
            self._next_id += 1
            self._rules.append(rule)
            return rule

    def list_rules(self) -> list[dict[str, Any]]:
        with self._lock:
            return [rule.to_json() for rule in self._rules]

    def clear_rules(self, secret_id: str | None) -> int:
        """Remove all rules, or only those scoped to ``secret_id`` when given."""
        with self._lock:
            keep = [r for r in self._rules if secret_id is not None and r.secret_id != secret_id]
            cleared = len(self._rules) - len(keep)
            self._rules = keep
            return cleared

    def record(
        self,
        secret_id: str | None,
        operation: str,
        reused: bool,
        region: str | None = None,
        access_key: str | None = None,
    ) -> FaultRule | None:
        """Count one proxied request and claim the fault to apply to it, if any.

        Counting and claiming happen under the same lock so that concurrent requests
        each consume a distinct use of a rule with a limited ``times``.
        """
        with self._lock:
            key = (secret_id, operation)
            self._counts[key] = self._counts.get(key, 0) + 1
            self._arrivals.append((time.time(), secret_id, operation, access_key))
            for index, rule in enumerate(self._rules):
                if rule.matches(secret_id, operation, reused, region):
                    if rule.remaining is not None:
                        rule.remaining -= 1
                        if rule.remaining == 0:
                            del self._rules[index]
                    return rule
            return None

    def counts(self, secret_id: str | None) -> dict[str, int]:
        """Per-operation counts for one secret, or summed over all requests."""
        totals: dict[str, int] = {}
        with self._lock:
            for (sid, operation), n in self._counts.items():
                if secret_id is None or sid == secret_id:
                    totals[operation] = totals.get(operation, 0) + n
        return totals

    def requests(self, secret_id: str | None) -> list[dict[str, Any]]:
        """Arrival time and operation of each counted request (of one secret), oldest first."""
        with self._lock:
            return [
                {"time": at, "operation": operation, "access_key": access_key}
                for at, sid, operation, access_key in self._arrivals
                if secret_id is None or sid == secret_id
            ]

    def reset_counts(self, secret_id: str | None) -> None:
        """Forget the counts and arrival times of ``secret_id``'s requests, or of all."""
        with self._lock:
            if secret_id is None:
                self._counts.clear()
                self._arrivals.clear()
            else:
                self._counts = {k: v for k, v in self._counts.items() if k[0] != secret_id}
                self._arrivals = [a for a in self._arrivals if a[1] != secret_id]


# --------------------------------------------------------------------------- proxy


def identify(headers: Any, body: bytes) -> tuple[str, str | None]:
    """Return (operation, secret_id) of an AWS JSON-1.1 request.

    The operation is the suffix of ``X-Amz-Target`` (``secretsmanager.GetSecretValue``);
    the secret is ``SecretId`` from the JSON body, or ``Name`` for CreateSecret. The
    secret id is compared exactly as the client sent it (a name and an ARN differ).
    """
    target = headers.get("X-Amz-Target") or ""
    operation = target.rpartition(".")[2]
    if not operation and "x-www-form-urlencoded" in (headers.get("Content-Type") or ""):
        # The query protocol (STS: AssumeRoleWithWebIdentity, ...) names it in the form body.
        operation = parse_qs(body.decode("utf-8", "replace")).get("Action", [""])[-1]
    operation = operation or UNKNOWN_OPERATION
    try:
        document = json.loads(body) if body else None
    except ValueError:
        document = None
    secret_id = None
    if isinstance(document, dict):
        secret_id = document.get("SecretId")
        if secret_id is None and operation == "CreateSecret":
            secret_id = document.get("Name")
    return operation, secret_id if isinstance(secret_id, str) else None


def signed_access_key(headers: Any) -> str | None:
    """The access key id a SigV4 request was signed with (the first field of the
    ``Credential=`` scope): which credential source the client used. None when unsigned."""
    authorization = headers.get("Authorization") or ""
    _, found, rest = authorization.partition("Credential=")
    return rest.split("/", 1)[0].strip() or None if found else None


def signed_region(headers: Any) -> str | None:
    """The region of a SigV4 request: the third field of the ``Credential=`` scope in
    ``Authorization`` (``AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request, ...``),
    which is the region whose endpoint the client meant to call. None when unsigned."""
    authorization = headers.get("Authorization") or ""
    _, found, rest = authorization.partition("Credential=")
    if not found:
        return None
    scope = rest.split(",", 1)[0].strip().split("/")
    return scope[2] if len(scope) == 5 and scope[2] else None


def connection_tokens(headers: Any) -> set[str]:
    """Header names listed in ``Connection:`` are hop-by-hop for this message too."""
    tokens: set[str] = set()
    for value in headers.get_all("Connection") or []:
        tokens.update(t.strip().lower() for t in value.split(",") if t.strip())
    return tokens


class ProxyServer(ThreadingHTTPServer):
    """The fault proxy. One thread per client connection, never joined on close."""

    daemon_threads = True
    block_on_close = False
    request_queue_size = 128  # parallel tests open many connections at once

    def __init__(
        self,
        address: tuple[str, int],
        moto_address: tuple[str, int],
        verbose: bool,
        tls: ssl.SSLContext | None = None,
        shared_with: ProxyServer | None = None,
    ):
        super().__init__(address, ProxyHandler)
        self.moto_address = moto_address
        self.verbose = verbose
        self.tls = tls
        # The HTTPS listener shares the HTTP one's rules, counts and stop signal, so a fault
        # set through the control API applies whichever transport the client uses.
        self.state = shared_with.state if shared_with else HarnessState()
        # Set at shutdown: releases "hang" and "delay" faults immediately.
        self.stopping = shared_with.stopping if shared_with else threading.Event()

    def get_request(self) -> tuple[socket.socket, Any]:
        """Accept with TCP_NODELAY, wrapping in TLS when this is the HTTPS listener.

        Without TCP_NODELAY a response written as headers then body meets the client's
        delayed ACK (Nagle): ~40 ms per response, which would swamp cold-start figures.
        The TLS handshake itself runs on the connection's own thread (``ProxyHandler.setup``)
        so a slow or failing client never blocks the accept loop.
        """
        sock, address = super().get_request()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.tls is not None:
            sock = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, address

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients dropping connections (timeouts, resets, refused certificates) are normal in fault tests."""
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError, ssl.SSLError)) or self.stopping.is_set():
            return
        super().handle_error(request, client_address)


class ProxyHandler(BaseHTTPRequestHandler):
    """Handles one client connection (keep-alive: possibly many requests)."""

    protocol_version = "HTTP/1.1"
    server: ProxyServer

    def setup(self) -> None:
        # One persistent connection to moto per client connection (= per thread).
        self._upstream: http.client.HTTPConnection | None = None
        # Proxied requests seen on this connection (faults can target reused connections).
        self._proxied = 0
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(HANDSHAKE_TIMEOUT_S)
            self.request.do_handshake()
            self.request.settimeout(None)
        super().setup()

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            if self._upstream is not None:
                self._upstream.close()

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            sys.stderr.write(f"harness proxy: {format % args}\n")

    # Every method goes through the same path; the control API checks its own verbs.
    def do_GET(self) -> None:
        self.dispatch()

    do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = do_GET

    def dispatch(self) -> None:
        body = self.read_body()
        if body is None:
            return
        if urlsplit(self.path).path.split("/")[1:2] == [CONTROL_PREFIX[1:]]:
            self.handle_control(body)
        else:
            self.handle_proxied(body)

    def read_body(self) -> bytes | None:
        """Read the request body (Content-Length or chunked). None = bad framing, replied."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self.read_chunked()
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        try:
            n = int(length)
            if n < 0:
                raise ValueError
        except ValueError:
            self.send_json(400, {"error": "bad Content-Length"}, close=True)
            return None
        return self.rfile.read(n)

    def read_chunked(self) -> bytes:
        """Decode a chunked request body; forwarded upstream with a Content-Length."""
        chunks = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # discard trailers
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline()  # CRLF after each chunk

    # ---- control API

    def handle_control(self, body: bytes) -> None:
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        secret_id = query.get("secret_id")
        state = self.server.state
        route = (self.command, url.path.rstrip("/"))
        try:
            if route == ("POST", f"{CONTROL_PREFIX}/faults"):
                rule = state.add_rule(self.parse_json(body))
                self.send_json(200, {"id": rule.id})
            elif route == ("GET", f"{CONTROL_PREFIX}/faults"):
                self.send_json(200, {"faults": state.list_rules()})
            elif route == ("DELETE", f"{CONTROL_PREFIX}/faults"):
                self.send_json(200, {"cleared": state.clear_rules(secret_id)})
            elif route == ("GET", f"{CONTROL_PREFIX}/counts"):
                self.send_json(200, state.counts(secret_id))
            elif route == ("DELETE", f"{CONTROL_PREFIX}/counts"):
                state.reset_counts(secret_id)
                self.send_json(200, {})
            elif route == ("GET", f"{CONTROL_PREFIX}/requests"):
                self.send_json(200, {"requests": state.requests(secret_id)})
            elif route == ("POST", f"{CONTROL_PREFIX}/call"):
                self.send_json(200, self.call_moto(self.parse_json(body)))
            elif route == ("POST", f"{CONTROL_PREFIX}/connect-proxies"):
                self.send_json(200, state.add_connect_proxy(self.parse_json(body)).stats())
            elif route[1].startswith(f"{CONTROL_PREFIX}/connect-proxies/") and self.command in ("GET", "DELETE"):
                proxy_id = route[1].rsplit("/", 1)[1]
                if self.command == "GET":
                    self.send_json(200, state.connect_proxy(proxy_id).stats())
                else:
                    state.remove_connect_proxy(proxy_id)
                    self.send_json(200, {})
            elif route[1] in {f"{CONTROL_PREFIX}/{name}" for name in ("faults", "counts", "requests", "call", "connect-proxies")}:
                raise ControlError(405, f"method {self.command} not allowed on {url.path}")
            else:
                raise ControlError(404, f"unknown control path {url.path}")
        except ControlError as exc:
            self.send_json(exc.status, {"error": str(exc)})

    def call_moto(self, spec: Any) -> dict[str, Any]:
        """One Secrets Manager API call straight to moto, for test setup in any language.

        `{"operation": "CreateSecret", "region": "us-east-2", "params": {...}}` becomes an
        awsJson1.1 POST with a (syntactically valid, unchecked) SigV4 header whose credential
        scope names the region, since moto keeps secrets per region. Not counted, never faulted.
        """
        if not isinstance(spec, dict) or not isinstance(spec.get("operation"), str):
            raise ControlError(400, "call needs {\"operation\": str, \"region\": str, \"params\": {...}}")
        region = spec.get("region", "us-east-1")
        params = spec.get("params", {})
        if not isinstance(region, str) or not isinstance(params, dict):
            raise ControlError(400, "call: region must be a string and params an object")
        headers = {
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": f"secretsmanager.{spec['operation']}",
            "Authorization": (
                f"AWS4-HMAC-SHA256 Credential=testing/20260101/{region}/secretsmanager/aws4_request, "
                "SignedHeaders=host;x-amz-target, Signature=0"
            ),
        }
        host, port = self.server.moto_address
        connection = http.client.HTTPConnection(host, port, timeout=UPSTREAM_TIMEOUT_S)
        try:
            connection.request("POST", "/", body=json.dumps(params).encode(), headers=headers)
            response = connection.getresponse()
            raw = response.read()
        finally:
            connection.close()
        try:
            reply = json.loads(raw) if raw else {}
        except ValueError:
            reply = {"raw": raw.decode("utf-8", "replace")}
        return {"status": response.status, "body": reply}

    @staticmethod
    def parse_json(body: bytes) -> Any:
        try:
            return json.loads(body)
        except ValueError as exc:
            raise ControlError(400, f"body is not valid JSON: {exc}") from None

    def send_json(self, status: int, document: Any, close: bool = False) -> None:
        self.send_body(status, {"Content-Type": "application/json"}, json.dumps(document).encode(), close)

    def send_body(self, status: int, headers: dict[str, str], body: bytes, close: bool = False) -> None:
        """Send a complete response generated by the proxy itself (always with Content-Length)."""
        self.send_response_only(status)
        self.send_header("Date", formatdate(usegmt=True))
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        if close:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.log_request(status, len(body))

    # ---- proxying and faults

    def handle_proxied(self, body: bytes) -> None:
        operation, secret_id = identify(self.headers, body)
        reused = self._proxied > 0
        self._proxied += 1
        rule = self.server.state.record(
            secret_id, operation, reused, signed_region(self.headers), signed_access_key(self.headers)
        )
        if rule is not None:
            log.debug("fault %s for %s %s", rule.action, operation, secret_id)
            if not self.apply_fault(rule):
                return
        self.forward(body)

    def apply_fault(self, rule: FaultRule) -> bool:
        """Apply a fault. Returns True if the request should still be forwarded."""
        if rule.action == "throttle":
            self.send_aws_error(400, "ThrottlingException", "Rate exceeded")
        elif rule.action == "error":
            self.send_aws_error(rule.params["status"], rule.params["code"], rule.params["message"])
        elif rule.action == "reset":
            self.reset_connection()
        elif rule.action == "delay":
            if not self.server.stopping.wait(rule.params["delay_ms"] / 1000):
                return True
            self.close_connection = True  # shutting down: drop instead of forwarding
        elif rule.action == "hang":
            self.server.stopping.wait(rule.params["hang_ms"] / 1000)
            self.close_connection = True  # then close without ever responding
        return False

    def send_aws_error(self, status: int, code: str, message: str) -> None:
        """The AWS JSON-1.1 error shape every SDK parses (header and ``__type``)."""
        body = json.dumps({"__type": code, "message": message}).encode()
        headers = {
            "Content-Type": "application/x-amz-json-1.1",
            "x-amzn-ErrorType": code,
            "x-amzn-RequestId": str(uuid.uuid4()),
        }
        self.send_body(status, headers, body)

    def reset_connection(self) -> None:
        """Abort the connection with a TCP RST (SO_LINGER on, timeout 0), sending nothing.

        The socket is only really closed once the buffered reader is closed too, since
        ``makefile()`` holds a reference to it.
        """
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()
        self.rfile.close()

    def forward(self, body: bytes) -> None:
        """Send the request to moto and relay its response (or a 502 if moto is gone)."""
        try:
            response, data = self.exchange(body)
        except (OSError, http.client.HTTPException) as exc:
            self.send_json(502, {"error": f"harness proxy could not reach moto: {exc!r}"})
            return
        self.send_response_only(response.status, response.reason)
        skip = HOP_BY_HOP | connection_tokens(response.headers) | {"content-length"}
        for name, value in response.getheaders():
            if name.lower() not in skip:
                self.send_header(name, value)
        if self.command == "HEAD":
            length = response.getheader("Content-Length")
        elif response.status in (204, 304) or response.status < 200:
            length = None
        else:
            length = str(len(data))
        if length is not None:
            self.send_header("Content-Length", length)
        self.end_headers()
        if data and self.command != "HEAD":
            self.wfile.write(data)
        self.log_request(response.status, len(data))

    def upstream_headers(self, body: bytes) -> list[tuple[str, str]]:
        """The client's headers minus hop-by-hop ones; framing is re-done by the proxy."""
        skip = HOP_BY_HOP | connection_tokens(self.headers) | {"content-length", "expect"}
        headers = [(k, v) for k, v in self.headers.items() if k.lower() not in skip]
        if "Host" not in self.headers:
            headers.append(("Host", "{}:{}".format(*self.server.moto_address)))
        framed = "Content-Length" in self.headers or "Transfer-Encoding" in self.headers
        if body or framed:
            headers.append(("Content-Length", str(len(body))))
        return headers

    def exchange(self, body: bytes) -> tuple[http.client.HTTPResponse, bytes]:
        """One request/response with moto on this thread's persistent connection.

        A connection that was idle may have been closed by moto; in that case (and only
        when the connection was reused) reconnect once and resend.
        """
        headers = self.upstream_headers(body)
        for attempt in range(2):
            reused = self._upstream is not None
            if self._upstream is None:
                host, port = self.server.moto_address
                connection = http.client.HTTPConnection(host, port, timeout=UPSTREAM_TIMEOUT_S)
                connection.connect()
                connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self._upstream = connection
            try:
                self._upstream.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
                for name, value in headers:
                    self._upstream.putheader(name, value)
                self._upstream.endheaders(body or None)
                response = self._upstream.getresponse()
                return response, response.read()
            except (OSError, http.client.HTTPException):
                self._upstream.close()
                self._upstream = None
                if not reused or attempt:
                    raise
        raise AssertionError("unreachable")


# --------------------------------------------------------------------------- lifecycle


def start_moto(verbose: bool) -> Any:
    """Start moto on a free port. Werkzeug's per-request log goes away unless verbose."""
    from moto.server import ThreadedMotoServer

    if not verbose:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    return server


def start_proxy(
    moto_address: tuple[str, int],
    verbose: bool,
    tls: ssl.SSLContext | None = None,
    shared_with: ProxyServer | None = None,
) -> ProxyServer:
    proxy = ProxyServer(("127.0.0.1", 0), moto_address, verbose, tls, shared_with)
    name = "harness-proxy-https" if tls else "harness-proxy"
    thread = threading.Thread(target=proxy.serve_forever, kwargs={"poll_interval": 0.1}, name=name, daemon=True)
    thread.start()
    return proxy


def env_lines(urls: dict[str, str]) -> list[str]:
    """The environment every suite runs under (scripts/with-harness sources this).

    Dummy credentials and no config files, so no test can pick up a developer's real
    AWS identity; AWS_REGION is deliberately left to each test. The trust variables are
    the ones each ecosystem reads: ``SSL_CERT_FILE`` (OpenSSL, so Python's ``ssl``, Go's
    crypto/x509 and rustls-native-certs), ``AWS_CA_BUNDLE`` (botocore, aws-sdk-go-v2, this
    package's core) and ``NODE_EXTRA_CA_CERTS`` (Node, added to its built-in roots).
    """
    exports = {
        "STARFLEET_TEST_MOTO": urls["moto"],
        "STARFLEET_TEST_PROXY": urls["proxy"],
        "STARFLEET_TEST_PROXY_HTTPS": urls["proxy_https"],
        "STARFLEET_TEST_ENDPOINT": urls["endpoint"],
        "STARFLEET_TEST_PRIVATE_ENDPOINT": urls["private_endpoint"],
        "STARFLEET_TEST_CA": urls["ca"],
        "STARFLEET_TEST_WRONG_CA": urls["wrong_ca"],
        "AWS_ENDPOINT_URL_SECRETS_MANAGER": urls["endpoint"],
        "SSL_CERT_FILE": urls["bundle"],
        "AWS_CA_BUNDLE": urls["bundle"],
        "NODE_EXTRA_CA_CERTS": urls["ca"],
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        # On a machine behind a proxy, the harness (127.0.0.1) is still reached directly; pip,
        # npm and go keep the proxy for the internet. Proxy tests set their own NO_PROXY.
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
    lines = [f"export {name}={shlex.quote(value)}" for name, value in exports.items()]
    # SSL_CERT_DIR would add every file of a directory to the roots; the bundle says it all.
    lines.append("unset AWS_SESSION_TOKEN AWS_PROFILE AWS_DEFAULT_PROFILE SSL_CERT_DIR")
    return lines


def write_env_file(path: str, urls: dict[str, str]) -> None:
    """Write atomically, so a reader that sees the file sees all of it."""
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write("\n".join(env_lines(urls)) + "\n")
    os.replace(tmp, path)


def stop_on_signals() -> threading.Event:
    """An event the stop signals set. Installed before the ready line is written: a caller may
    signal as soon as it has read that line (a signal before the handler would kill the
    process with the default action instead of a clean shutdown)."""
    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, on_signal)
    return stop


def wait_for_stop(stop: threading.Event) -> None:
    """Block until stdin reaches EOF or a stop signal arrives (`stop_on_signals`)."""

    def watch_stdin() -> None:
        # os.read, not sys.stdin: a daemon thread blocked inside a buffered reader
        # holds its lock, which aborts interpreter shutdown after a signal.
        try:
            while os.read(sys.stdin.fileno(), 65536):
                pass
        except (OSError, ValueError):
            pass
        stop.set()

    threading.Thread(target=watch_stdin, name="harness-stdin", daemon=True).start()
    while not stop.wait(1.0):
        pass


def shutdown(proxies: list[ProxyServer], moto: Any) -> None:
    """Stop the servers; a watchdog guarantees exit even if something is wedged."""
    watchdog = threading.Timer(5.0, os._exit, args=(3,))
    watchdog.daemon = True
    watchdog.start()
    proxies[0].stopping.set()  # release hung / delayed handlers first (shared by all)
    proxies[0].state.close_connect_proxies()
    for proxy in proxies:
        proxy.shutdown()
        proxy.server_close()
    moto.stop()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env-file", help="also write shell export lines for the test environment here")
    parser.add_argument(
        "--transport",
        choices=TRANSPORTS,
        default="https",
        help="which listener AWS_ENDPOINT_URL_SECRETS_MANAGER names (both always run); default https",
    )
    parser.add_argument(
        "--cert-dir", help="write the generated certificates here (default: a temporary directory, removed at exit)"
    )
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, stream=sys.stderr)
    # Exactly one line may ever reach stdout: route any stray print() to stderr.
    ready_out, sys.stdout = sys.stdout, sys.stderr

    started = time.monotonic()
    own_cert_dir = args.cert_dir is None
    cert_dir = tempfile.mkdtemp(prefix="starfleet-harness-certs.") if own_cert_dir else args.cert_dir
    try:
        files = certs.generate(Path(cert_dir))
        moto = start_moto(args.verbose)
        moto_host, moto_port = moto.get_host_and_port()
        proxy = start_proxy((moto_host, moto_port), args.verbose)
        proxy_https = start_proxy((moto_host, moto_port), args.verbose, files.server_context(), proxy)
        proxy.state.proxy_tls = files.server_context()
        urls = {
            "moto": f"http://{moto_host}:{moto_port}",
            "proxy": "http://{}:{}".format(*proxy.server_address[:2]),
            "proxy_https": "https://{}:{}".format(*proxy_https.server_address[:2]),
            "ca": str(files.ca),
            "wrong_ca": str(files.wrong_ca),
            "bundle": str(files.bundle),
        }
        urls["endpoint"] = urls["proxy_https"] if args.transport == "https" else urls["proxy"]
        # The HTTPS listener under a name only the CONNECT proxies resolve (connect_proxy.py).
        urls["private_endpoint"] = "https://secretsmanager.harness.test:{}".format(proxy_https.server_address[1])
        if args.env_file:
            write_env_file(args.env_file, urls)
        stop = stop_on_signals()
        ready_out.write(json.dumps(urls) + "\n")
        ready_out.flush()
        log.debug("ready in %.2fs: %s", time.monotonic() - started, urls)

        wait_for_stop(stop)
        shutdown([proxy, proxy_https], moto)
    finally:
        if own_cert_dir:
            shutil.rmtree(cert_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
