"""Certificates for the harness's HTTPS endpoint, generated fresh at every start.

Real Secrets Manager is HTTPS only, so the suites and the cold-start benchmarks talk to the
proxy over TLS with certificate verification on. This module makes, in a directory:

* ``ca.pem``: a private root CA (RSA 2048, as AWS's own chains use), valid for a day;
* ``server.pem`` / ``server.key``: a certificate for ``127.0.0.1``, ``localhost`` and
  ``*.harness.test`` (names only the CONNECT proxies resolve, see connect_proxy.py) signed
  by that CA, which the proxy serves;
* ``bundle.pem``: the CA followed by the system's root bundle (when one is found), which is
  what a deployment that adds a private CA to the system roots looks like. It goes in
  ``SSL_CERT_FILE`` / ``AWS_CA_BUNDLE`` so tools that still need the internet inside a
  harness (pip, npm, go) keep working, and so cold-start figures include parsing a real
  root store;
* ``wrong-ca.pem``: an unrelated CA that signed nothing, for tests that check a client
  refuses the proxy (never falls back to no verification) when it trusts the wrong roots.

Uses ``cryptography`` (pinned in tests/requirements.txt; moto depends on it too).
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALIDITY = datetime.timedelta(days=1)
#: Clock skew tolerated between this host and a client.
BACKDATE = datetime.timedelta(hours=1)
#: `*.harness.test`: names only the harness's CONNECT proxies resolve (connect_proxy.py).
SERVER_NAMES = ("localhost", "*.harness.test")
SERVER_IPS = ("127.0.0.1",)
#: Where common distributions keep the system root bundle (Debian/Ubuntu, Amazon Linux/RHEL,
#: Alpine, SUSE), after what the local OpenSSL reports.
SYSTEM_BUNDLES = (
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/cert.pem",
    "/etc/ssl/ca-bundle.pem",
)


@dataclass(frozen=True)
class CertFiles:
    """Paths of the generated files (see the module docstring)."""

    ca: Path
    wrong_ca: Path
    bundle: Path
    server_cert: Path
    server_key: Path

    def server_context(self) -> ssl.SSLContext:
        """The proxy's TLS context: TLS 1.2+, HTTP/1.1 only (what the proxy speaks)."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self.server_cert, self.server_key)
        context.set_alpn_protocols(["http/1.1"])
        return context


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "starfleet-secrets test harness"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _ca(common_name: str, now: datetime.datetime) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    key = _key()
    name = _name(common_name)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def _server(
    ca_cert: x509.Certificate, ca_key: rsa.RSAPrivateKey, now: datetime.datetime
) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    key = _key()
    names: list[x509.GeneralName] = [x509.DNSName(n) for n in SERVER_NAMES]
    names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in SERVER_IPS]
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(SERVER_NAMES[0]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    return cert, key


def system_bundle() -> Path | None:
    """The system's root bundle file, if this host has one."""
    candidates = [ssl.get_default_verify_paths().openssl_cafile, *SYSTEM_BUNDLES]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def generate(directory: Path) -> CertFiles:
    """Write a fresh CA, server certificate, bundle and wrong CA into ``directory``."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_cert, ca_key = _ca("starfleet-secrets test CA", now)
    server_cert, server_key = _server(ca_cert, ca_key, now)
    wrong_cert, _ = _ca("starfleet-secrets unrelated CA", now)

    pem = serialization.Encoding.PEM
    files = CertFiles(
        ca=directory / "ca.pem",
        wrong_ca=directory / "wrong-ca.pem",
        bundle=directory / "bundle.pem",
        server_cert=directory / "server.pem",
        server_key=directory / "server.key",
    )
    files.ca.write_bytes(ca_cert.public_bytes(pem))
    files.wrong_ca.write_bytes(wrong_cert.public_bytes(pem))
    system = system_bundle()
    files.bundle.write_bytes(ca_cert.public_bytes(pem) + (system.read_bytes() if system else b""))
    files.server_cert.write_bytes(server_cert.public_bytes(pem))
    files.server_key.write_bytes(
        server_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    files.server_key.chmod(0o600)
    return files
