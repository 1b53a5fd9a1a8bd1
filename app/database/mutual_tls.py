"""Throwaway certificates for mutual TLS: a certificate authority, a certificate for the
server (127.0.0.1) and one for the client, each living only as long as their directory.

The embedded database's first user can only be created by a client that is not signed
in (SecantusDB has no first-user exception). While that client creates it, the daemon
requires a client certificate signed by this authority, whose key never leaves a
private temporary directory: no one else on the host can connect, even then.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

LIFETIME = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class MutualTls:
    authority: Path
    """The authority's certificate (PEM): what each side checks the other's against."""
    server_certificate: Path
    server_key: Path
    client: Path
    """The client's certificate and key (PEM), as pymongo takes them."""

    def daemon_flags(self) -> list[str]:
        """secantusd-py's flags: TLS with this server certificate, and a client certificate required."""
        return [
            *("--tls-cert-file", str(self.server_certificate)),
            *("--tls-key-file", str(self.server_key)),
            *("--tls-ca-file", str(self.authority)),
            "--tls-require-client-cert",
        ]

    def client_options(self) -> dict[str, Any]:
        """pymongo's options for connecting with the client certificate."""
        return {"tls": True, "tlsCAFile": str(self.authority), "tlsCertificateKeyFile": str(self.client)}


def mutual_tls(directory: Path, host: str) -> MutualTls:
    """Write a fresh authority and a server (for `host`) and client certificate into
    `directory`, which must be private to this user."""
    now = datetime.now(UTC)
    authority_key = ec.generate_private_key(ec.SECP256R1())
    authority = _certificate("concept-auth provisioning", authority_key, None, authority_key, now)
    server_key, client_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    server = _certificate("embedded database", server_key, authority, authority_key, now, host=host)
    client = _certificate("concept-auth", client_key, authority, authority_key, now)
    files = MutualTls(
        directory / "authority.pem", directory / "server.pem", directory / "server.key", directory / "client.pem"
    )
    _write(files.authority, _pem(authority))
    _write(files.server_certificate, _pem(server))
    _write(files.server_key, _pem_key(server_key))
    _write(files.client, _pem(client) + _pem_key(client_key))
    return files


def _certificate(
    name: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Certificate | None,
    issuer_key: ec.EllipticCurvePrivateKey,
    now: datetime,
    *,
    host: str | None = None,
) -> x509.Certificate:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.subject if issuer is not None else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + LIFETIME)
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
    )
    if issuer is None:
        usage = x509.KeyUsage(False, False, False, False, False, True, True, False, False)  # certificates, CRLs
        builder = builder.add_extension(usage, critical=True)
    else:
        usage = x509.KeyUsage(True, False, False, False, True, False, False, False, False)  # signatures, key agreement
        purpose = ExtendedKeyUsageOID.SERVER_AUTH if host is not None else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = builder.add_extension(usage, critical=True).add_extension(
            x509.ExtendedKeyUsage([purpose]), critical=False
        )
    if host is not None:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))]), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256())


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _write(path: Path, content: bytes) -> None:
    path.touch(mode=0o600)
    path.write_bytes(content)
