"""Network paths and credential sources core resolves for every language: an HTTPS proxy
(``HTTPS_PROXY``, ``NO_PROXY``, a refusing proxy), a profile's ``credential_process``, a
``login_session`` profile (the session ``aws login`` cached) and instance metadata (IMDSv2,
from a local fake).

Each case runs in a fresh interpreter, since the proxy and the credential chain are read once
per SDK client of a process. The harness's CONNECT proxies count their tunnels, and
``STARFLEET_TEST_PRIVATE_ENDPOINT`` names a host only they resolve.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import stat
import subprocess
import threading
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Tuple

import pytest

from conftest import READ_IN_CHILD as READ, _control, count, run_python, starfleet_doc

PROXY_VARS = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy")


def _read(name: str, env: Dict[str, str], remove: Tuple[str, ...] = ()) -> str:
    remove = tuple(v for v in PROXY_VARS + remove if v not in env)
    out = run_python(READ.format(name=name), env=env, remove=remove)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def _connect_proxy(**spec: Any) -> Dict[str, Any]:
    return dict(_control("POST", "connect-proxies", spec))


def _stats(proxy: Dict[str, Any]) -> Dict[str, Any]:
    return dict(_control("GET", f"connect-proxies/{proxy['id']}"))


CREDENTIAL_VARS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")


def _signing_keys(name: str) -> List[str]:
    return [r["access_key"] for r in _control("GET", f"requests?secret_id={name}")["requests"]]


def test_reads_through_https_proxy_and_the_proxy_counts_the_tunnel(secret: Callable[..., str]) -> None:
    name = secret(starfleet_doc("xoxb-proxy"))
    private = os.environ["STARFLEET_TEST_PRIVATE_ENDPOINT"]
    line = _read(name, {"AWS_ENDPOINT_URL_SECRETS_MANAGER": private})
    assert line.startswith("SecretsNetworkError NETWORK"), "reachable only through the proxy: " + line
    proxy = _connect_proxy()
    line = _read(name, {"AWS_ENDPOINT_URL_SECRETS_MANAGER": private, "HTTPS_PROXY": proxy["url"]})
    assert line == str(len("xoxb-proxy")), line
    assert _stats(proxy)["targets"] == {private.removeprefix("https://"): 1}
    assert count(name) == 1


def test_no_proxy_matching_the_endpoint_bypasses_the_proxy(secret: Callable[..., str]) -> None:
    name = secret(starfleet_doc("xoxb-proxy"))
    proxy = _connect_proxy()
    for no_proxy in ("127.0.0.1", "127.0.0.0/8"):
        line = _read(name, {"HTTPS_PROXY": proxy["url"], "NO_PROXY": no_proxy})
        assert line == str(len("xoxb-proxy")), line
    assert _stats(proxy)["tunnels"] == 0
    line = _read(name, {"HTTPS_PROXY": proxy["url"], "NO_PROXY": "example.com"})
    assert line == str(len("xoxb-proxy")), line
    assert _stats(proxy)["tunnels"] == 1


def test_a_refusing_proxy_is_a_network_error_naming_it_without_its_password(secret: Callable[..., str]) -> None:
    name = secret(starfleet_doc("xoxb-proxy"))
    proxy = _connect_proxy(refuse=403)
    port = proxy["url"].rsplit(":", 1)[1]
    line = _read(
        name,
        {
            "AWS_ENDPOINT_URL_SECRETS_MANAGER": os.environ["STARFLEET_TEST_PRIVATE_ENDPOINT"],
            "HTTPS_PROXY": f"http://dave:py-s3cret@127.0.0.1:{port}",
        },
    )
    assert line.startswith("SecretsNetworkError NETWORK"), line
    assert f"http://dave:***@127.0.0.1:{port} (HTTPS_PROXY)" in line, line
    assert "py-s3cret" not in line
    assert count(name) == 0


def test_credential_process_in_the_profile(secret: Callable[..., str], tmp_path: Path) -> None:
    name = secret(starfleet_doc("xoxb-process"))
    script = tmp_path / "credentials.sh"
    script.write_text(
        "#!/bin/sh\n"
        'echo \'{"Version": 1, "AccessKeyId": "AKIDPYPROCESS", "SecretAccessKey": "s", "SessionToken": "t"}\'\n'
    )
    script.chmod(stat.S_IRWXU)
    config = tmp_path / "config"
    config.write_text(f"[profile worker]\ncredential_process = {script}\n")
    env = {"AWS_CONFIG_FILE": str(config), "AWS_PROFILE": "worker"}
    assert _read(name, env, CREDENTIAL_VARS) == str(len("xoxb-process"))
    assert _signing_keys(name) == ["AKIDPYPROCESS"]


def test_login_session_profile_with_the_session_aws_login_cached(
    secret: Callable[..., str], tmp_path: Path
) -> None:
    name = secret(starfleet_doc("xoxb-login"))
    session = "arn:aws:iam::123456789012:user/Admin"
    cache = tmp_path / ".aws" / "login" / "cache"
    cache.mkdir(parents=True)
    key = subprocess.run(
        ["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout"], capture_output=True, check=True, text=True
    ).stdout
    token = {
        "accessToken": {
            "accessKeyId": "AKIDPYLOGIN",
            "secretAccessKey": "s",
            "sessionToken": "t",
            "accountId": "123456789012",
            "expiresAt": "2099-01-01T00:00:00Z",
        },
        "tokenType": "aws_sigv4",
        "refreshToken": "r",
        "clientId": "arn:aws:signin:::devtools/same-device",
        "dpopKey": key,
    }
    (cache / f"{hashlib.sha256(session.encode()).hexdigest()}.json").write_text(json.dumps(token))
    config = tmp_path / "config"
    config.write_text(f"[profile console]\nlogin_session = {session}\n")
    env = {"HOME": str(tmp_path), "AWS_CONFIG_FILE": str(config), "AWS_PROFILE": "console"}
    assert _read(name, env, CREDENTIAL_VARS) == str(len("xoxb-login"))
    assert _signing_keys(name) == ["AKIDPYLOGIN"]


class _Imds(http.server.BaseHTTPRequestHandler):
    """Instance metadata with IMDSv2 required: a session token from ``PUT /latest/api/token``,
    refused (401) on any other request without it."""

    TOKEN = "py-imds-token"
    seen: List[str] = []

    def _answer(self, status: int, body: str, headers: Tuple[Tuple[str, str], ...] = ()) -> None:
        type(self).seen.append(f"{self.command} {self.path}")
        data = body.encode()
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_PUT(self) -> None:  # noqa: N802 (http.server's naming)
        if self.path == "/latest/api/token" and self.headers.get("x-aws-ec2-metadata-token-ttl-seconds"):
            self._answer(200, self.TOKEN, (("x-aws-ec2-metadata-token-ttl-seconds", "21600"),))
        else:
            self._answer(404, "")

    def do_GET(self) -> None:  # noqa: N802
        if self.headers.get("x-aws-ec2-metadata-token") != self.TOKEN:
            self._answer(401, "")
        elif self.path == "/latest/meta-data/iam/security-credentials/":
            self._answer(200, "py-role")
        elif self.path == "/latest/meta-data/iam/security-credentials/py-role":
            credentials = {
                "Code": "Success",
                "AccessKeyId": "AKIDPYIMDS",
                "SecretAccessKey": "s",
                "Token": "t",
                "Expiration": "2099-01-01T00:00:00Z",
            }
            self._answer(200, json.dumps(credentials))
        else:
            self._answer(404, "")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def imds() -> Iterator[str]:
    _Imds.seen = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Imds)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_instance_metadata_credentials_imdsv2(secret: Callable[..., str], imds: str) -> None:
    name = secret(starfleet_doc("xoxb-imds"))
    env = {"AWS_EC2_METADATA_SERVICE_ENDPOINT": imds}
    assert _read(name, env, CREDENTIAL_VARS + ("AWS_EC2_METADATA_DISABLED",)) == str(len("xoxb-imds"))
    assert _Imds.seen[0] == "PUT /latest/api/token", _Imds.seen
    assert "GET /latest/meta-data/iam/security-credentials/py-role" in _Imds.seen
    assert _signing_keys(name) == ["AKIDPYIMDS"]
