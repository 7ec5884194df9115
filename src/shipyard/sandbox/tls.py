"""The sandbox's own certificate authority and the proxies' certificate, so HTTPS is rehearsed as on a droplet.

Files live outside the repository (secrets are never read from inside it): `~/.config/shipyard/sandbox/<project>/`
holds ca.pem (what clients trust), cert.pem and key.pem (mode 600), for `localhost` and 127.0.0.1, where every
sandbox VM's HTTPS port is published. They are made once and reused until a month before they expire.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

CERT_SECRET, KEY_SECRET = "SANDBOX_TLS_CERTIFICATE", "SANDBOX_TLS_KEY"  # pragma: allowlist secret
VALID_DAYS, RENEW_DAYS = 365, 30


@dataclass(frozen=True)
class SandboxTls:
    ca: Path
    cert: Path
    key: Path


def folder(project: str, home: Path | None = None) -> Path:
    return (home or Path.home()) / ".config" / "shipyard" / "sandbox" / project


def ensure(project: str, home: Path | None = None) -> SandboxTls:
    """The CA and a leaf certificate for localhost/127.0.0.1, made when missing or close to expiry."""
    from cryptography import x509

    where = folder(project, home)
    files = SandboxTls(where / "ca.pem", where / "cert.pem", where / "key.pem")
    if all(p.is_file() for p in (files.ca, files.cert, files.key)):
        cert = x509.load_pem_x509_certificate(files.cert.read_bytes())
        left = cert.not_valid_after_utc - datetime.datetime.now(datetime.UTC)
        if left > datetime.timedelta(days=RENEW_DAYS):
            return files
    _make(project, files)
    return files


def _make(project: str, files: SandboxTls) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.UTC)
    until = now + datetime.timedelta(days=VALID_DAYS)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"Shipyard sandbox CA ({project})")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(until)
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False),
                         critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(until)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    files.ca.parent.mkdir(parents=True, exist_ok=True)
    files.ca.parent.chmod(0o700)
    pem = serialization.Encoding.PEM
    _write(files.ca, ca.public_bytes(pem), 0o644)
    _write(files.cert, leaf.public_bytes(pem) + ca.public_bytes(pem), 0o600)  # the chain the proxy serves
    _write(files.key, key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()), 0o600)


def _write(path: Path, data: bytes, mode: int) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    tmp.replace(path)
