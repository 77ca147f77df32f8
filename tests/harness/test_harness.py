"""Tests for the test harness itself: moto behind the fault proxy, driven through boto3.

Run with: .venv/bin/python -m pytest tests/harness -q

Each test uses its own secret names, so tests share one harness (module scope) without
interfering; only the shutdown and script tests start harnesses of their own.
"""

from __future__ import annotations

import http.client
import json
import os
import selectors
import signal
import socket
import ssl
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError, ReadTimeoutError

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
HARNESS = HERE / "harness.py"
REGION = "us-east-1"
READY_TIMEOUT_S = 60


# --------------------------------------------------------------------------- helpers


class Harness:
    """A running harness subprocess plus small clients for its control API and moto."""

    def __init__(self, proc: subprocess.Popen, urls: dict[str, str]):
        self.proc = proc
        self.urls = urls
        self.moto = urls["moto"]
        self.proxy = urls["proxy"]
        self.proxy_https = urls["proxy_https"]
        self.proxy_address = (urlsplit(self.proxy).hostname, urlsplit(self.proxy).port)
        self.https_address = (urlsplit(self.proxy_https).hostname, urlsplit(self.proxy_https).port)

    @classmethod
    def start(cls, *args: str) -> Harness:
        proc = subprocess.Popen(
            [sys.executable, str(HARNESS), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        try:
            return cls(proc, json.loads(read_line(proc, READY_TIMEOUT_S)))
        except BaseException:
            proc.kill()
            proc.wait()
            raise

    def stop(self, how: str = "eof", timeout: float = 10) -> float:
        """Ask the harness to stop; returns how long it took to exit."""
        started = time.monotonic()
        if how == "eof":
            self.proc.stdin.close()
        else:
            self.proc.send_signal(getattr(signal, how))
        self.proc.wait(timeout)
        return time.monotonic() - started

    def control(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        conn = http.client.HTTPConnection(*self.proxy_address, timeout=10)
        try:
            payload = None if body is None else json.dumps(body)
            conn.request(method, path, body=payload, headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            return response.status, json.loads(response.read())
        finally:
            conn.close()

    def add_fault(self, **spec: Any) -> int:
        status, document = self.control("POST", "/__harness/faults", spec)
        assert status == 200, document
        return document["id"]

    def clear_faults(self, secret_id: str | None = None) -> int:
        query = f"?secret_id={secret_id}" if secret_id else ""
        return self.control("DELETE", f"/__harness/faults{query}")[1]["cleared"]

    def counts(self, secret_id: str | None = None) -> dict[str, int]:
        query = f"?secret_id={secret_id}" if secret_id else ""
        return self.control("GET", f"/__harness/counts{query}")[1]

    def client(
        self,
        endpoint: str | None = None,
        read_timeout: float = 10,
        pool: int = 10,
        verify: str | None = None,
        region: str = REGION,
    ) -> Any:
        """A Secrets Manager client with retries off, so every injected fault surfaces.

        ``verify`` is the CA file for an HTTPS endpoint (default: the harness's own CA).
        """
        config = Config(
            retries={"mode": "standard", "total_max_attempts": 1},
            connect_timeout=5,
            read_timeout=read_timeout,
            max_pool_connections=pool,
        )
        return boto3.client(
            "secretsmanager",
            endpoint_url=endpoint or self.proxy,
            verify=verify or self.urls["ca"],
            region_name=region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=config,
        )


def read_line(proc: subprocess.Popen, timeout: float) -> str:
    """Read the ready line without blocking forever if the harness never prints it."""
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            raise TimeoutError(f"harness not ready after {timeout}s")
    line = proc.stdout.readline()
    if not line:
        raise RuntimeError(f"harness exited before it was ready (rc={proc.wait()})")
    return line.decode()


def raw_aws_request(operation: str, secret_id: str) -> bytes:
    """A minimal AWS JSON-1.1 request, for tests that need to watch the raw socket."""
    body = json.dumps({"SecretId": secret_id}).encode()
    head = (
        "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"X-Amz-Target: secretsmanager.{operation}\r\n"
        "Content-Type: application/x-amz-json-1.1\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def wait_until(predicate: Any, timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


def error_of(excinfo: pytest.ExceptionInfo) -> tuple[int, str, str]:
    response = excinfo.value.response
    return (
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"]["Code"],
        response["Error"]["Message"],
    )


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module", autouse=True)
def aws_env():
    """No developer profile or config file may leak into the tests."""
    with pytest.MonkeyPatch.context() as mp:
        for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "STARFLEET_TEST_PROXY"):
            mp.delenv(name, raising=False)
        mp.setenv("AWS_CONFIG_FILE", os.devnull)
        mp.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
        mp.setenv("AWS_EC2_METADATA_DISABLED", "true")
        yield


@pytest.fixture(scope="module")
def env_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("harness") / "env.sh"


@pytest.fixture(scope="module")
def harness(aws_env: None, env_file: Path):
    running = Harness.start("--env-file", str(env_file))
    yield running
    running.stop()


@pytest.fixture(autouse=True)
def no_leftover_faults(request: pytest.FixtureRequest):
    """A failed test must not leave rules behind for the next one."""
    yield
    if "harness" in request.fixturenames:
        request.getfixturevalue("harness").clear_faults()


@pytest.fixture
def secret(harness: Harness) -> str:
    """A fresh secret (created directly on moto, so it does not touch proxy counts)."""
    name = f"harness-test-{uuid.uuid4().hex[:12]}"
    harness.client(endpoint=harness.moto).create_secret(Name=name, SecretString=f"value-of-{name}")
    return name


# --------------------------------------------------------------------------- basics


def test_ready_line_and_env_file(harness: Harness, env_file: Path):
    for url in (harness.moto, harness.proxy):
        assert url.startswith("http://127.0.0.1:")
    assert harness.proxy_https.startswith("https://127.0.0.1:")
    assert len({harness.moto, harness.proxy, harness.proxy_https}) == 3
    assert harness.urls["endpoint"] == harness.proxy_https, "SDKs use HTTPS by default"
    script = (
        f'source "{env_file}"; echo "$STARFLEET_TEST_PROXY $AWS_ENDPOINT_URL_SECRETS_MANAGER ${{AWS_PROFILE-unset}}'
        ' $SSL_CERT_FILE $AWS_CA_BUNDLE $NODE_EXTRA_CA_CERTS $STARFLEET_TEST_CA ${SSL_CERT_DIR-unset}"'
    )
    out = subprocess.run(
        ["bash", "-c", script],
        env={**os.environ, "AWS_PROFILE": "real", "SSL_CERT_DIR": "/etc/ssl/certs"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    bundle, ca = harness.urls["bundle"], harness.urls["ca"]
    assert out == [harness.proxy, harness.proxy_https, "unset", bundle, bundle, ca, ca, "unset"]
    no_proxy = subprocess.run(
        ["bash", "-c", f'source "{env_file}"; echo "$NO_PROXY $no_proxy"'], capture_output=True, text=True, check=True
    )
    assert no_proxy.stdout.split() == ["127.0.0.1,localhost"] * 2
    # The bundle is the test CA followed by the system roots (when the host has some).
    assert Path(bundle).read_text().startswith(Path(ca).read_text())
    text = env_file.read_text()
    assert "export AWS_ACCESS_KEY_ID=testing" in text
    assert "AWS_REGION" not in text


def test_https_shares_rules_and_counts_with_http(harness: Harness, secret: str):
    """One proxy state behind both listeners; TLS verified against the generated CA."""
    harness.add_fault(secret_id=secret, action="throttle")
    with pytest.raises(ClientError) as excinfo:
        harness.client(endpoint=harness.proxy_https).get_secret_value(SecretId=secret)
    assert error_of(excinfo)[1] == "ThrottlingException"
    assert harness.client(endpoint=harness.proxy_https).get_secret_value(SecretId=secret)["SecretString"]
    assert harness.client(endpoint=harness.proxy).get_secret_value(SecretId=secret)["SecretString"]
    assert harness.counts(secret) == {"GetSecretValue": 3}


def test_https_certificate_names_and_wrong_ca(harness: Harness):
    """The server certificate is valid for 127.0.0.1 and localhost under the test CA only."""
    context = ssl.create_default_context(cafile=harness.urls["ca"])
    for host in ("127.0.0.1", "localhost"):
        with socket.create_connection(harness.https_address, timeout=10) as raw:
            with context.wrap_socket(raw, server_hostname=host) as tls:
                assert tls.version() in ("TLSv1.2", "TLSv1.3")
                assert tls.selected_alpn_protocol() in (None, "http/1.1")
    wrong = ssl.create_default_context(cafile=harness.urls["wrong_ca"])
    with socket.create_connection(harness.https_address, timeout=10) as raw:
        with pytest.raises(ssl.SSLCertVerificationError):
            wrong.wrap_socket(raw, server_hostname="127.0.0.1")
    # The proxy survives a refused handshake.
    assert harness.control("GET", "/__harness/faults")[0] == 200


def test_https_handshake_does_not_block_other_clients(harness: Harness):
    """A client that connects and never speaks TLS holds its own thread, not the listener."""
    with socket.create_connection(harness.https_address, timeout=10):
        context = ssl.create_default_context(cafile=harness.urls["ca"])
        with socket.create_connection(harness.https_address, timeout=10) as raw:
            with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                tls.sendall(b"GET /__harness/faults HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                assert tls.recv(12) == b"HTTP/1.1 200"


def test_passthrough_create_and_get(harness: Harness):
    client = harness.client()
    name = f"harness-test-{uuid.uuid4().hex[:12]}"
    created = client.create_secret(Name=name, SecretString='{"user": "kirk"}')
    got = client.get_secret_value(SecretId=name)
    assert got["SecretString"] == '{"user": "kirk"}'
    assert got["ARN"] == created["ARN"]
    # Proxy and moto share one backend; the ARN works as a SecretId too.
    direct = harness.client(endpoint=harness.moto).get_secret_value(SecretId=created["ARN"])
    assert direct["VersionId"] == got["VersionId"]


def test_not_found_passes_through_from_moto(harness: Harness):
    with pytest.raises(ClientError) as excinfo:
        harness.client().get_secret_value(SecretId=f"missing-{uuid.uuid4().hex}")
    # moto says HTTP 404 here where AWS says 400; suites should match on the code.
    assert error_of(excinfo)[1] == "ResourceNotFoundException"


def test_counts_per_secret_and_reset(harness: Harness):
    client = harness.client()
    a, b = (f"harness-test-{uuid.uuid4().hex[:12]}" for _ in range(2))
    client.create_secret(Name=a, SecretString="a")
    client.create_secret(Name=b, SecretString="b")
    for _ in range(3):
        client.get_secret_value(SecretId=a)
    client.get_secret_value(SecretId=b)
    client.describe_secret(SecretId=b)

    assert harness.counts(a) == {"CreateSecret": 1, "GetSecretValue": 3}
    assert harness.counts(b) == {"CreateSecret": 1, "GetSecretValue": 1, "DescribeSecret": 1}
    assert harness.counts()["GetSecretValue"] >= 4

    assert harness.control("DELETE", f"/__harness/counts?secret_id={a}") == (200, {})
    assert harness.counts(a) == {}
    assert harness.counts(b)["GetSecretValue"] == 1


def test_request_arrival_times_per_secret(harness: Harness):
    """GET /__harness/requests lists each counted request of a secret with its arrival time."""
    client = harness.client()
    a, b = (f"harness-test-{uuid.uuid4().hex[:12]}" for _ in range(2))
    client.create_secret(Name=a, SecretString="a")
    client.create_secret(Name=b, SecretString="b")
    before = time.time()
    client.get_secret_value(SecretId=a)
    harness.add_fault(secret_id=a, action="delay", delay_ms=300)
    client.get_secret_value(SecretId=a)  # answered 300 ms after it arrived
    client.get_secret_value(SecretId=b)
    after = time.time()

    def requests(secret_id: str | None = None) -> list[dict[str, Any]]:
        query = f"?secret_id={secret_id}" if secret_id else ""
        status, document = harness.control("GET", f"/__harness/requests{query}")
        assert status == 200, document
        return document["requests"]

    of_a, of_b = requests(a), requests(b)
    assert [r["operation"] for r in of_a] == ["CreateSecret", "GetSecretValue", "GetSecretValue"]
    assert [r["operation"] for r in of_b] == ["CreateSecret", "GetSecretValue"]
    assert before <= of_a[1]["time"] <= of_a[2]["time"] <= of_b[1]["time"] <= after
    # Stamped when it arrived, before the delay: b's request came after the delayed reply.
    assert of_b[1]["time"] - of_a[2]["time"] >= 0.3
    assert len(requests()) >= 5

    assert harness.control("DELETE", f"/__harness/counts?secret_id={a}") == (200, {})
    assert requests(a) == []
    assert requests(b) == of_b
    assert harness.control("POST", "/__harness/requests", {})[0] == 405


def test_keep_alive_and_content_length(harness: Harness, secret: str):
    """Several requests, control and proxied, on one client connection."""
    conn = http.client.HTTPConnection(*harness.proxy_address, timeout=10)
    try:
        conn.request("GET", f"/__harness/counts?secret_id={secret}")
        first = conn.getresponse()
        assert first.getheader("Content-Length") is not None
        first.read()
        sock = conn.sock
        for _ in range(2):
            conn.request("GET", "/__harness/faults")
            response = conn.getresponse()
            assert response.status == 200 and response.getheader("Content-Length")
            response.read()
        # A proxied request (moto answers 4xx without a signature; any reply will do).
        conn.request("POST", "/", body=b"{}", headers={"X-Amz-Target": "secretsmanager.ListSecrets"})
        response = conn.getresponse()
        assert response.getheader("Content-Length") is not None
        assert response.getheader("Transfer-Encoding") is None
        response.read()
        assert conn.sock is sock, "proxy closed a keep-alive connection"
    finally:
        conn.close()


# --------------------------------------------------------------------------- faults


def test_throttle_once_then_success(harness: Harness, secret: str):
    harness.add_fault(secret_id=secret, action="throttle")
    client = harness.client()
    with pytest.raises(ClientError) as excinfo:
        client.get_secret_value(SecretId=secret)
    assert error_of(excinfo) == (400, "ThrottlingException", "Rate exceeded")
    assert client.get_secret_value(SecretId=secret)["SecretString"] == f"value-of-{secret}"
    assert harness.counts(secret) == {"GetSecretValue": 2}


def test_throttle_wire_format(harness: Harness):
    """The exact AWS JSON-1.1 error shape other languages' SDKs parse."""
    secret_id = f"raw-{uuid.uuid4().hex}"
    harness.add_fault(secret_id=secret_id, action="throttle")
    conn = http.client.HTTPConnection(*harness.proxy_address, timeout=10)
    try:
        conn.request(
            "POST",
            "/",
            body=json.dumps({"SecretId": secret_id}),
            headers={"X-Amz-Target": "secretsmanager.GetSecretValue"},
        )
        response = conn.getresponse()
        assert response.status == 400
        assert response.getheader("x-amzn-ErrorType") == "ThrottlingException"
        assert response.getheader("Content-Type") == "application/x-amz-json-1.1"
        assert json.loads(response.read()) == {"__type": "ThrottlingException", "message": "Rate exceeded"}
    finally:
        conn.close()


@pytest.mark.parametrize(
    "status, code",
    [
        (400, "AccessDeniedException"),
        (400, "DecryptionFailure"),
        (400, "ResourceNotFoundException"),
        (503, "ServiceUnavailable"),
    ],
)
def test_error_with_custom_code_and_status(harness: Harness, secret: str, status: int, code: str):
    harness.add_fault(secret_id=secret, action="error", status=status, code=code, message=f"injected {code}")
    with pytest.raises(ClientError) as excinfo:
        harness.client().get_secret_value(SecretId=secret)
    assert error_of(excinfo) == (status, code, f"injected {code}")


def test_error_defaults(harness: Harness, secret: str):
    harness.add_fault(secret_id=secret, action="error")
    with pytest.raises(ClientError) as excinfo:
        harness.client().get_secret_value(SecretId=secret)
    status, code, _ = error_of(excinfo)
    assert (status, code) == (500, "InternalServiceError")


def test_reset_raises_connection_error(harness: Harness, secret: str):
    harness.add_fault(secret_id=secret, action="reset")
    client = harness.client()
    with pytest.raises(ConnectionClosedError):
        client.get_secret_value(SecretId=secret)
    assert client.get_secret_value(SecretId=secret)["SecretString"] == f"value-of-{secret}"


def test_reset_is_a_tcp_rst(harness: Harness):
    secret_id = f"raw-{uuid.uuid4().hex}"
    harness.add_fault(secret_id=secret_id, action="reset")
    with socket.create_connection(harness.proxy_address, timeout=5) as sock:
        sock.sendall(raw_aws_request("GetSecretValue", secret_id))
        with pytest.raises(ConnectionResetError):
            sock.recv(1024)


def test_delay_is_measurable(harness: Harness, secret: str):
    client = harness.client()
    client.get_secret_value(SecretId=secret)  # warm the connection pool
    harness.add_fault(secret_id=secret, action="delay", delay_ms=600)
    started = time.monotonic()
    assert client.get_secret_value(SecretId=secret)["SecretString"] == f"value-of-{secret}"
    assert time.monotonic() - started >= 0.55
    started = time.monotonic()
    client.get_secret_value(SecretId=secret)
    assert time.monotonic() - started < 0.5  # the rule was used up


def test_hang_causes_client_read_timeout(harness: Harness, secret: str):
    harness.add_fault(secret_id=secret, action="hang", hang_ms=5000)
    started = time.monotonic()
    with pytest.raises(ReadTimeoutError):
        harness.client(read_timeout=0.5).get_secret_value(SecretId=secret)
    assert time.monotonic() - started < 3
    assert harness.client().get_secret_value(SecretId=secret)["SecretString"] == f"value-of-{secret}"


def test_hang_closes_after_hang_ms(harness: Harness):
    secret_id = f"raw-{uuid.uuid4().hex}"
    harness.add_fault(secret_id=secret_id, action="hang", hang_ms=300)
    with socket.create_connection(harness.proxy_address, timeout=5) as sock:
        started = time.monotonic()
        sock.sendall(raw_aws_request("GetSecretValue", secret_id))
        assert sock.recv(1024) == b""  # closed without any response
        assert 0.25 <= time.monotonic() - started < 3


def read_response(sock: socket.socket) -> bytes:
    """One complete proxied response (the proxy always sends Content-Length)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, "connection closed before a response"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:"))
    while len(body) < length:
        body += sock.recv(65536)
    return head


@pytest.mark.parametrize("listener", ["http", "https"])
def test_black_hole_on_reused_connections_only(harness: Harness, listener: str):
    """connection=reused: what a NAT gateway that forgot the flow does to a pooled connection."""
    secret_id = f"raw-{uuid.uuid4().hex}"
    harness.add_fault(secret_id=secret_id, action="hang", hang_ms=300, connection="reused", times=0)
    address = harness.proxy_address if listener == "http" else harness.https_address

    def connect() -> socket.socket:
        sock = socket.create_connection(address, timeout=5)
        if listener == "https":
            context = ssl.create_default_context(cafile=harness.urls["ca"])
            sock = context.wrap_socket(sock, server_hostname="127.0.0.1")
        return sock

    with connect() as sock:
        sock.sendall(raw_aws_request("GetSecretValue", secret_id))
        assert read_response(sock).startswith(b"HTTP/1.1 ")  # first request: served (moto's answer)
        sock.sendall(raw_aws_request("GetSecretValue", secret_id))
        started = time.monotonic()
        assert sock.recv(1024) == b""  # second on the same connection: no answer, then closed
        assert time.monotonic() - started >= 0.25
    with connect() as sock:  # a fresh connection is served again
        sock.sendall(raw_aws_request("GetSecretValue", secret_id))
        assert read_response(sock).startswith(b"HTTP/1.1 ")
    assert harness.counts(secret_id) == {"GetSecretValue": 3}
    [rule] = [r for r in harness.control("GET", "/__harness/faults")[1]["faults"] if r["secret_id"] == secret_id]
    assert rule["connection"] == "reused" and rule["remaining"] is None


def test_transport_http_and_cert_dir_cleanup(aws_env: None):
    own = Harness.start("--transport", "http")
    try:
        assert own.urls["endpoint"] == own.proxy
        ca = Path(own.urls["ca"])
        assert ca.is_file()
    finally:
        own.stop()
    assert not ca.parent.exists(), "the generated certificates are removed at exit"


@pytest.mark.parametrize("how", ["eof", "SIGTERM", "SIGINT"])
def test_shutdown_is_prompt_with_a_hung_connection(aws_env: None, how: str):
    own = Harness.start()
    try:
        own.add_fault(action="hang", operation="*")  # default hang_ms: 60 s
        with socket.create_connection(own.proxy_address, timeout=5) as sock:
            sock.sendall(raw_aws_request("GetSecretValue", "hung"))
            wait_until(lambda: own.counts().get("GetSecretValue") == 1)
            assert own.stop(how) < 3
            assert own.proc.returncode == 0
            assert sock.recv(1024) == b""  # the hung connection was closed, not left dangling
    finally:
        if own.proc.poll() is None:
            own.proc.kill()
            own.proc.wait()


def test_times_and_clearing(harness: Harness, secret: str):
    client = harness.client()

    def outcome() -> str:
        try:
            client.get_secret_value(SecretId=secret)
            return "ok"
        except ClientError as exc:
            return exc.response["Error"]["Code"]

    harness.add_fault(secret_id=secret, action="error", code="Twice", status=400, times=2)
    assert [outcome() for _ in range(3)] == ["Twice", "Twice", "ok"]

    harness.add_fault(secret_id=secret, action="error", code="Forever", status=400, times=0)
    other = harness.add_fault(secret_id="someone-else", action="throttle", times=-1)
    assert [outcome() for _ in range(4)] == ["Forever"] * 4

    assert harness.clear_faults(secret) == 1
    assert outcome() == "ok"
    rules = harness.control("GET", "/__harness/faults")[1]["faults"]
    assert [rule["id"] for rule in rules] == [other]
    assert rules[0]["remaining"] is None
    assert harness.clear_faults() == 1
    assert harness.control("GET", "/__harness/faults")[1] == {"faults": []}


def test_rule_matching_order_scope_and_operation(harness: Harness, secret: str):
    client = harness.client()
    harness.add_fault(secret_id="someone-else", action="error", code="NotMine", status=400)
    harness.add_fault(secret_id=secret, action="error", code="First", status=400)
    harness.add_fault(action="error", code="AnySecret", status=400)
    harness.add_fault(secret_id=secret, operation="*", action="error", code="AnyOperation", status=400)

    codes = []
    for call in (client.get_secret_value, client.get_secret_value, client.describe_secret, client.get_secret_value):
        try:
            call(SecretId=secret)
            codes.append("ok")
        except ClientError as exc:
            codes.append(exc.response["Error"]["Code"])
    # GetSecretValue rules are not matched by DescribeSecret; "*" is.
    assert codes == ["First", "AnySecret", "AnyOperation", "ok"]
    assert harness.clear_faults() == 1  # only the other secret's rule is left


def test_region_rules_match_the_signed_region(harness: Harness):
    """A replicated secret (the same name created in two regions, as moto keeps secrets per
    region): a rule scoped to one region's signature faults that region only."""
    name = f"harness-test-{uuid.uuid4().hex[:12]}"
    for region in (REGION, "us-west-2"):
        status, _ = harness.control(
            "POST",
            "/__harness/call",
            {"operation": "CreateSecret", "region": region, "params": {"Name": name, "SecretString": region}},
        )
        assert status == 200
    harness.add_fault(secret_id=name, region=REGION, action="error", status=503, code="ServiceUnavailable", times=0)
    with pytest.raises(ClientError) as excinfo:
        harness.client().get_secret_value(SecretId=name)
    assert error_of(excinfo)[:2] == (503, "ServiceUnavailable")
    assert harness.client(region="us-west-2").get_secret_value(SecretId=name)["SecretString"] == "us-west-2"
    assert harness.control("GET", "/__harness/faults")[1]["faults"][0]["region"] == REGION
    # An unsigned request has no region: a region-scoped rule never matches it.
    with socket.create_connection(harness.proxy_address, timeout=10) as sock:
        sock.sendall(raw_aws_request("GetSecretValue", name))
        assert b" 503 " not in sock.recv(4096).split(b"\r\n", 1)[0]


def test_parallel_requests(harness: Harness):
    client = harness.client(pool=32)
    names = [f"harness-test-{uuid.uuid4().hex[:12]}" for _ in range(4)]
    for name in names:
        client.create_secret(Name=name, SecretString=f"value-of-{name}")
        harness.add_fault(secret_id=name, action="delay", delay_ms=200, times=0)
    harness.add_fault(secret_id=names[0], action="throttle", times=0)  # behind the delay: never reached
    calls = [names[i % len(names)] for i in range(32)]

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=16) as pool:
        values = list(pool.map(lambda name: client.get_secret_value(SecretId=name)["SecretString"], calls))
    elapsed = time.monotonic() - started

    assert values == [f"value-of-{name}" for name in calls]
    assert elapsed < 32 * 0.2 / 4, f"requests were not handled concurrently ({elapsed:.2f}s)"
    for name in names:
        assert harness.counts(name) == {"CreateSecret": 1, "GetSecretValue": 8}


# --------------------------------------------------------------------------- control API


@pytest.mark.parametrize(
    "method, path, body, status",
    [
        ("GET", "/__harness/nope", None, 404),
        ("GET", "/__harness", None, 404),
        ("PUT", "/__harness/faults", {}, 405),
        ("POST", "/__harness/faults", {"action": "explode"}, 400),
        ("POST", "/__harness/faults", {"action": "delay"}, 400),
        ("POST", "/__harness/faults", {"action": "delay", "delayMs": 5}, 400),
        ("POST", "/__harness/faults", {"action": "error", "status": "500"}, 400),
        ("POST", "/__harness/faults", {"action": "throttle", "times": True}, 400),
        ("POST", "/__harness/faults", {"action": "throttle", "secret_id": 7}, 400),
        ("POST", "/__harness/faults", {"action": "hang", "connection": "old"}, 400),
        ("POST", "/__harness/faults", {"action": "throttle", "region": 7}, 400),
        ("POST", "/__harness/faults", {"action": "throttle", "region": ""}, 400),
        ("POST", "/__harness/faults", None, 400),
    ],
)
def test_control_api_rejects_bad_requests(harness: Harness, method: str, path: str, body: Any, status: int):
    got_status, document = harness.control(method, path, body)
    assert got_status == status
    assert isinstance(document.get("error"), str)
    assert harness.control("GET", "/__harness/faults")[1] == {"faults": []}


def test_fault_ids_increase(harness: Harness):
    first = harness.add_fault(secret_id="x", action="throttle")
    second = harness.add_fault(secret_id="x", action="reset")
    assert second > first


# --------------------------------------------------------------------------- CONNECT proxies


def _connect(address: tuple[str, int], head: str) -> tuple[socket.socket, str]:
    """Send a request head to a CONNECT proxy; returns the socket and the status line."""
    sock = socket.create_connection(address, timeout=10)
    sock.sendall(head.encode())
    reply = b""
    while b"\r\n\r\n" not in reply:
        chunk = sock.recv(4096)
        if not chunk:
            break
        reply += chunk
    return sock, reply.split(b"\r\n", 1)[0].decode()


def test_connect_proxy_tunnels_to_the_private_endpoint_with_tls_end_to_end(harness: Harness):
    status, proxy = harness.control("POST", "/__harness/connect-proxies", {})
    assert status == 200 and proxy["tunnels"] == 0, proxy
    private = harness.urls["private_endpoint"]
    target = urlsplit(private).netloc
    assert urlsplit(private).hostname == "secretsmanager.harness.test"
    name = f"harness-test-{uuid.uuid4().hex[:12]}"
    client = boto3.client(
        "secretsmanager",
        endpoint_url=private,
        verify=harness.urls["ca"],
        region_name=REGION,
        aws_access_key_id="AKIDTHROUGHPROXY",
        aws_secret_access_key="testing",
        config=Config(proxies={"https": proxy["url"]}, retries={"total_max_attempts": 1}),
    )
    client.create_secret(Name=name, SecretString="{}")
    assert client.get_secret_value(SecretId=name)["SecretString"] == "{}"
    stats = harness.control("GET", f"/__harness/connect-proxies/{proxy['id']}")[1]
    assert stats["tunnels"] >= 1 and stats["targets"] == {target: stats["tunnels"]}, stats
    requests = harness.control("GET", f"/__harness/requests?secret_id={name}")[1]["requests"]
    assert [r["access_key"] for r in requests] == ["AKIDTHROUGHPROXY"] * 2
    # The name does not resolve outside the proxy.
    with pytest.raises(OSError):
        socket.getaddrinfo("secretsmanager.harness.test", 443)
    # TLS is the endpoint's: a client trusting the wrong roots refuses it through the tunnel.
    sock, line = _connect(harness.proxy_address[:1] + (int(proxy["url"].rsplit(":", 1)[1]),), f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n")
    assert line.startswith("HTTP/1.1 200"), line
    wrong = ssl.create_default_context(cafile=harness.urls["wrong_ca"])
    with pytest.raises(ssl.SSLCertVerificationError):
        wrong.wrap_socket(sock, server_hostname="secretsmanager.harness.test")
    sock.close()
    assert harness.control("DELETE", f"/__harness/connect-proxies/{proxy['id']}") == (200, {})
    assert harness.control("GET", f"/__harness/connect-proxies/{proxy['id']}")[0] == 404


def test_connect_proxy_auth_refusal_and_requested_targets(harness: Harness):
    status, proxy = harness.control("POST", "/__harness/connect-proxies", {"auth": "alice:pw"})
    assert status == 200
    address = ("127.0.0.1", int(proxy["url"].rsplit(":", 1)[1]))
    target = urlsplit(harness.urls["private_endpoint"]).netloc
    _, line = _connect(address, f"CONNECT {target} HTTP/1.1\r\n\r\n")
    assert line.startswith("HTTP/1.1 407"), line
    good = "Proxy-Authorization: Basic YWxpY2U6cHc=\r\n"  # alice:pw
    sock, line = _connect(address, f"CONNECT {target} HTTP/1.1\r\n{good}\r\n")
    assert line.startswith("HTTP/1.1 200"), line
    sock.close()
    _, line = _connect(address, "GET / HTTP/1.1\r\n\r\n")
    assert line.startswith("HTTP/1.1 405"), line
    status, refusing = harness.control("POST", "/__harness/connect-proxies", {"refuse": 403})
    refusing_address = ("127.0.0.1", int(refusing["url"].rsplit(":", 1)[1]))
    _, line = _connect(refusing_address, "CONNECT unreachable.invalid:443 HTTP/1.1\r\n\r\n")
    assert line.startswith("HTTP/1.1 403"), line
    stats = harness.control("GET", f"/__harness/connect-proxies/{proxy['id']}")[1]
    assert (stats["tunnels"], stats["refused"], stats["requested"]) == (1, 1, {target: 2}), stats
    refused = harness.control("GET", f"/__harness/connect-proxies/{refusing['id']}")[1]
    assert (refused["tunnels"], refused["refused"], refused["requested"]) == (0, 1, {"unreachable.invalid:443": 1})
    for bad in ({"auth": "no-colon"}, {"refuse": 200}, {"other": 1}, {"tls": "yes"}, {"delay_ms": -1}, {"delay_ms": True}):
        assert harness.control("POST", "/__harness/connect-proxies", bad)[0] == 400, bad
    assert harness.control("GET", "/__harness/connect-proxies/999")[0] == 404


def test_a_slow_connect_proxy_opens_its_tunnel_after_the_delay(harness: Harness):
    status, proxy = harness.control("POST", "/__harness/connect-proxies", {"delay_ms": 400})
    assert status == 200
    target = urlsplit(harness.urls["private_endpoint"]).netloc
    started = time.monotonic()
    sock, line = _connect(("127.0.0.1", int(proxy["url"].rsplit(":", 1)[1])), f"CONNECT {target} HTTP/1.1\r\n\r\n")
    waited = time.monotonic() - started
    assert line.startswith("HTTP/1.1 200"), line
    assert 0.4 <= waited < 3, waited
    # The tunnel works: TLS with the endpoint, verified, through it.
    context = ssl.create_default_context(cafile=harness.urls["ca"])
    context.wrap_socket(sock, server_hostname="secretsmanager.harness.test").close()
    assert harness.control("GET", f"/__harness/connect-proxies/{proxy['id']}")[1]["tunnels"] == 1


def test_connect_proxy_forwards_plain_http_and_can_speak_tls(harness: Harness):
    name = f"harness-test-{uuid.uuid4().hex[:12]}"
    status, proxy = harness.control("POST", "/__harness/connect-proxies", {})
    assert status == 200
    # The plain-HTTP listener under the private name: reachable only through the proxy.
    port = harness.proxy_address[1]
    forwarding = boto3.client(
        "secretsmanager",
        endpoint_url=f"http://secretsmanager.harness.test:{port}",
        region_name=REGION,
        aws_access_key_id="AKIDFORWARDED",
        aws_secret_access_key="testing",
        config=Config(proxies={"http": proxy["url"]}, retries={"total_max_attempts": 1}),
    )
    forwarding.create_secret(Name=name, SecretString="{}")
    assert forwarding.get_secret_value(SecretId=name)["SecretString"] == "{}"
    stats = harness.control("GET", f"/__harness/connect-proxies/{proxy['id']}")[1]
    target = f"secretsmanager.harness.test:{port}"
    assert (stats["forwarded"], stats["forward_targets"], stats["tunnels"]) == (2, {target: 2}, 0), stats

    status, tls_proxy = harness.control("POST", "/__harness/connect-proxies", {"tls": True})
    assert status == 200 and tls_proxy["url"].startswith("https://127.0.0.1:"), tls_proxy
    through_tls = boto3.client(
        "secretsmanager",
        endpoint_url=harness.urls["private_endpoint"],
        verify=harness.urls["ca"],
        region_name=REGION,
        aws_access_key_id="AKIDTLSPROXY",
        aws_secret_access_key="testing",
        config=Config(
            proxies={"https": tls_proxy["url"]},
            proxies_config={"proxy_ca_bundle": harness.urls["ca"]},
            retries={"total_max_attempts": 1},
        ),
    )
    assert through_tls.get_secret_value(SecretId=name)["SecretString"] == "{}"
    stats = harness.control("GET", f"/__harness/connect-proxies/{tls_proxy['id']}")[1]
    assert stats["tunnels"] == 1, stats
    # The proxy's certificate is the harness's: a client trusting other roots refuses it.
    address = ("127.0.0.1", int(tls_proxy["url"].rsplit(":", 1)[1]))
    wrong = ssl.create_default_context(cafile=harness.urls["wrong_ca"])
    with socket.create_connection(address, timeout=10) as raw, pytest.raises(ssl.SSLCertVerificationError):
        wrong.wrap_socket(raw, server_hostname="127.0.0.1")


# --------------------------------------------------------------------------- scripts


def test_seed_creates_then_updates_without_printing_the_value(harness: Harness, tmp_path: Path):
    name = f"harness-test-{uuid.uuid4().hex[:12]}"
    doc = tmp_path / "doc.json"
    outputs = []
    for value in ('{"password": "first-sekret"}', '{"password": "second-sekret"}'):
        doc.write_text(value)
        result = subprocess.run(
            [
                sys.executable,
                str(HERE / "seed.py"),
                "--endpoint",
                harness.proxy,
                "--region",
                REGION,
                "--name",
                name,
                "--file",
                str(doc),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        assert "sekret" not in result.stdout + result.stderr
        outputs.append(json.loads(result.stdout))
    assert outputs[0]["ARN"] == outputs[1]["ARN"]
    assert outputs[0]["VersionId"] != outputs[1]["VersionId"]
    got = harness.client().get_secret_value(SecretId=name)
    assert got["SecretString"] == '{"password": "second-sekret"}'
    assert got["VersionId"] == outputs[1]["VersionId"]


def test_with_harness_script(aws_env: None):
    script = (
        'printf "%s\\n" "$STARFLEET_TEST_MOTO" "$STARFLEET_TEST_PROXY" "$AWS_ENDPOINT_URL_SECRETS_MANAGER" '
        '"$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" "$AWS_EC2_METADATA_DISABLED" "$AWS_CONFIG_FILE" '
        '"$AWS_SHARED_CREDENTIALS_FILE" "${AWS_SESSION_TOKEN-unset}" "${AWS_PROFILE-unset}" "${AWS_REGION-unset}"; '
        "exit 7"
    )
    env = {k: v for k, v in os.environ.items() if k != "AWS_REGION"}
    env.update(AWS_SESSION_TOKEN="real-token", AWS_PROFILE="real-profile")
    result = subprocess.run(
        [str(REPO / "scripts" / "with-harness"), "bash", "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert result.returncode == 7, result.stderr
    moto, proxy, endpoint, *rest = result.stdout.split("\n")[:11]
    assert endpoint.startswith("https://127.0.0.1:") and proxy.startswith("http://127.0.0.1:") and moto != proxy
    assert rest == ["testing", "testing", "true", "/dev/null", "/dev/null", "unset", "unset", "unset"]
    # The harness is gone once the script has returned.
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((urlsplit(proxy).hostname, urlsplit(proxy).port), timeout=2).close()

    nested = subprocess.run(
        [str(REPO / "scripts" / "with-harness"), "bash", "-c", 'echo "$STARFLEET_TEST_PROXY"; exit 3'],
        env={**env, "STARFLEET_TEST_PROXY": "http://outer"},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert (nested.returncode, nested.stdout) == (3, "http://outer\n")


def test_harness_dies_with_its_with_harness_parent(aws_env: None):
    """Even SIGKILL on the script stops the harness: its stdin fifo reaches EOF."""
    proc = subprocess.Popen(
        [str(REPO / "scripts" / "with-harness"), "bash", "-c", 'echo "$STARFLEET_TEST_PROXY"; exec sleep 30'],
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        proxy = urlsplit(read_line(proc, READY_TIMEOUT_S).strip())
        socket.create_connection((proxy.hostname, proxy.port), timeout=2).close()
        proc.kill()
        proc.wait()

        def refused() -> bool:
            try:
                socket.create_connection((proxy.hostname, proxy.port), timeout=2).close()
                return False
            except ConnectionRefusedError:
                return True
            except ConnectionResetError:
                return False  # caught mid-shutdown; try again

        wait_until(refused, timeout=5)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the orphaned sleep
