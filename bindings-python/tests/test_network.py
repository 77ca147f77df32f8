"""Network paths and credential sources core resolves for every language: an HTTPS proxy
(``HTTPS_PROXY``, ``NO_PROXY``, a refusing proxy) and a profile's ``credential_process``.

Each case runs in a fresh interpreter, since the proxy and the credential chain are read once
per SDK client of a process. The harness's CONNECT proxies count their tunnels, and
``STARFLEET_TEST_PRIVATE_ENDPOINT`` names a host only they resolve.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any, Callable, Dict, Tuple

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
    remove = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
    assert _read(name, env, remove) == str(len("xoxb-process"))
    requests = _control("GET", f"requests?secret_id={name}")["requests"]
    assert [r["access_key"] for r in requests] == ["AKIDPYPROCESS"]
