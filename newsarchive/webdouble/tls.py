"""Throwaway self-signed certificates for terminating CONNECT tunnels.

Clients of the double (Scrapy, tests) do not verify the chain, so one key per process is enough;
it is generated lazily on first use, never at import time. Each host named by SNI gets its own
certificate for that name, so clients that check the host name (Scrapy warns on a mismatch) see
a certificate for the site they asked for.
"""

from __future__ import annotations

import datetime as dt
import functools
import ipaddress
import re
import ssl
import tempfile
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID


@functools.cache
def _key() -> rsa.RSAPrivateKey:
    """One RSA 2048 key per process (the widest client compatibility)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@functools.cache
def self_signed_pem(host: str | None = None) -> tuple[bytes, bytes]:
    """(certificate, private key) in PEM, for ``host`` or for localhost/127.0.0.1."""
    key = _key()
    common_name = host or "newsarchive webdouble"
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64])])
    now = dt.datetime.now(dt.UTC)
    names: list[x509.GeneralName] = [
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
    ]
    if host:
        names.insert(0, x509.DNSName(host))
    san = x509.SubjectAlternativeName(names)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(san, critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def server_context() -> ssl.SSLContext:
    """A server-side SSLContext that answers each SNI host name with its own certificate."""
    context = _context_for(None)
    context.sni_callback = _pick_certificate
    return context


_LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
_DNS_NAME = re.compile(rf"^{_LABEL}(\.{_LABEL})*$")


def _pick_certificate(sslobj: ssl.SSLObject, server_name: str | None, _ctx) -> None:
    """SNI callback: plain DNS names get their own certificate, anything else the default."""
    if server_name and _DNS_NAME.match(server_name.lower()):
        sslobj.context = _context_for(server_name.lower())


@functools.lru_cache(maxsize=256)
def _context_for(host: str | None) -> ssl.SSLContext:
    """A server-side SSLContext loaded with the certificate for ``host`` (HTTP/1.1 via ALPN)."""
    cert_pem, key_pem = self_signed_pem(host)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.set_alpn_protocols(["http/1.1"])
    # load_cert_chain only reads files; the temp dir is gone once the key is in memory.
    with tempfile.TemporaryDirectory(prefix="webdouble-tls-") as tmp:
        cert_file, key_file = Path(tmp, "cert.pem"), Path(tmp, "key.pem")
        cert_file.write_bytes(cert_pem)
        key_file.touch(mode=0o600)
        key_file.write_bytes(key_pem)
        context.load_cert_chain(cert_file, key_file)
    return context
